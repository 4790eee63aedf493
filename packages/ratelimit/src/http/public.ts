/** The HTTP helpers re-exported by every middleware entry point (express, fastify, nest). */
export { type NormalizeIpOptions, normalizeIp } from './client-ip.js';
export {
  formatPolicyHeader,
  type HeaderDraft,
  type HeaderOptions,
  partitionKey,
  type RateLimitHeaders,
  rateLimitHeaders,
  retryAfterSeconds,
} from './headers.js';
export type {
  CostOption,
  LimitedBody,
  LimitedDetails,
  RateLimitHttpOptions,
  RouteRateLimitOptions,
} from './http-options.js';
export {
  type ByIpOptions,
  type ByUserOptions,
  byIp,
  byUser,
  type KeyGenerator,
  type RequestWithAddress,
} from './key-generators.js';
export { type ProblemDetails, problemContentType, problemDetails } from './problem.js';
