// Keyv storage adapter: being written (issue: drop-ins). Intentionally empty until it lands.
export {};
