import { InvalidOptionsError, RedisUnavailableError, RedkitError } from '@redkit/core';
import type { LimitResult } from './result.js';

/**
 * Thrown by {@link RateLimiter.enforce} when a request is denied. `limit()`
 * returns denials as values instead.
 */
export class RateLimitedError extends RedkitError {
  readonly result: LimitResult;

  constructor(subject: string, result: LimitResult) {
    super('E_RATE_LIMITED', `rate limit exceeded for ${JSON.stringify(subject)}; retry in ${result.retryAfterMs}ms`);
    this.result = result;
  }
}

/** Errors thrown by @redkit/ratelimit, for `instanceof` checks. */
export const errors = {
  RateLimitedError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
