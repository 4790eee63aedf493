/** What the app is configured with: from the environment in main.ts, from the test in the e2e test. */
export interface AppOptions {
  /** `redis://…` or `redis+cluster://…` (see @redkit/core's `connect`). */
  readonly redisUrl: string;
  /** Prefix of every Redis key the app writes. @default 'nest-app' */
  readonly namespace?: string;
  /** Requests per minute per user (per IP when logged out). @default 60 */
  readonly requestsPerMinute?: number;
  /** Signs the session cookie. */
  readonly sessionSecret: string;
  /** Send the session cookie over HTTPS only (set it in production). @default false */
  readonly secureCookies?: boolean;
  /** How long the fake database takes per query. @default 50 */
  readonly queryDelayMs?: number;
}

/** Injection token of the {@link AppOptions}. */
export const APP_OPTIONS = Symbol('APP_OPTIONS');

/** The options with their defaults. */
export type ResolvedAppOptions = Required<AppOptions>;

export function resolveAppOptions(options: AppOptions): ResolvedAppOptions {
  return { namespace: 'nest-app', requestsPerMinute: 60, secureCookies: false, queryDelayMs: 50, ...options };
}
