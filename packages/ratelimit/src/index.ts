export { errors, RateLimitedError } from './errors.js';
export type { RateLimitEvents } from './events.js';
export {
  type Algorithm,
  type LimitCallOptions,
  type Policy,
  type PolicyInput,
  policySchema,
  type RateLimiterOptions,
  rateLimiterOptionsSchema,
  slidingLogMaxLimit,
} from './options.js';
export { RateLimiter } from './rate-limiter.js';
export type { DecidedBy, Lease, LimitResult, PolicyResult } from './result.js';
