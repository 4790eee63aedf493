import type { RedisConnection } from '@redkit/core';
import { RateLimiter } from '@redkit/ratelimit';
import type { ServiceConfig } from '../config.js';

/**
 * The limiters. Each is one Lua script per check; the HTTP middleware
 * (@redkit/ratelimit/express) turns their results into IETF RateLimit
 * headers and 429 problem responses.
 */
export function createLimiters(redis: RedisConnection, config: ServiceConfig) {
  const { limits, namespace } = config;
  return {
    /** Every API call, per user: bursts up to `capacity`, then `refillPerSecond`. */
    api: new RateLimiter({
      redis,
      namespace: `${namespace}:rl:api`,
      policies: [
        {
          name: 'api',
          algorithm: 'token-bucket',
          capacity: limits.api.capacity,
          refillRate: limits.api.refillPerSecond,
          interval: '1s',
        },
      ],
    }),
    /** Placing orders, per user: a smooth window on top of the API bucket. */
    orders: new RateLimiter({
      redis,
      namespace: `${namespace}:rl:orders`,
      policies: [
        { name: 'orders', algorithm: 'sliding-window', limit: limits.orders.limit, window: limits.orders.windowMs },
      ],
    }),
    /** Login attempts, per IP: exact, and closed when Redis is down (password guessing must not get through). */
    login: new RateLimiter({
      redis,
      namespace: `${namespace}:rl:login`,
      policies: [{ name: 'login', algorithm: 'sliding-log', limit: limits.login.limit, window: limits.login.windowMs }],
      failure: { mode: 'closed' },
    }),
  };
}

export type Limiters = ReturnType<typeof createLimiters>;
