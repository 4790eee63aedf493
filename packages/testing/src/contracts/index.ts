export {
  type BadCallCase,
  type BadCallsOptions,
  type BadOptionCase,
  badCallsContract,
  badOptionsContract,
} from './bad-input.js';
export { type LeastPrivilegeOptions, leastPrivilegeContract } from './least-privilege.js';
export { type RedisDownOptions, redisDownContract } from './redis-down.js';
