import type { RedisConnection } from '@redkit/core';
import { type PolicyInput, RateLimiter, type RateLimiterOptions } from '@redkit/ratelimit';
import type { Options as ExpressRateLimitOptions } from 'express-rate-limit';
import { type RedisReply, RedisStore } from 'rate-limit-redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { Variant } from '../scenario.js';
import { loadOnEveryMaster } from './load-script.js';
import type { SubjectDistribution } from './subjects.js';

/** A limit no run reaches: every check is admitted and counted, so every variant does the same work. */
export const admitAll = 1_000_000_000;

/** `RateLimiter.limit(subject)` from @redkit/ratelimit. */
export function redkitVariant(
  name: string,
  redis: RedisConnection,
  namespace: string,
  policies: PolicyInput[],
  subjects: SubjectDistribution,
  options: Pick<RateLimiterOptions, 'replicas'> = {},
): Variant {
  const limiter = new RateLimiter({ redis, namespace, policies, ...options });
  const check = (i: number) =>
    limiter.limit(subjects.subject(i)).then((result) => {
      // Failing open is the default: a timed-out check would be admitted without Redis and inflate ops/s.
      if (!result.allowed || result.decidedBy !== 'redis') {
        throw new Error(`${name}: expected an admission decided by Redis, got ${JSON.stringify(result)}`);
      }
      return result;
    });
  return {
    name,
    async setup() {
      await check(0);
    },
    run: check,
  };
}

/** rate-limiter-flexible's `RateLimiterRedis` (a fixed window from the first hit), `.consume(key)`. */
export function rateLimiterFlexibleLimiter(redis: RedisConnection, keyPrefix: string, durationSec: number) {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points: admitAll,
    duration: durationSec,
    useRedisPackage: false,
  });
}

export function rateLimiterFlexibleVariant(
  name: string,
  redis: RedisConnection,
  keyPrefix: string,
  durationSec: number,
  subjects: SubjectDistribution,
): Variant {
  const limiter = rateLimiterFlexibleLimiter(redis, keyPrefix, durationSec);
  const consume = (i: number) => limiter.consume(subjects.tagged(i));
  return {
    name,
    async setup() {
      await consume(0);
    },
    run: consume,
  };
}

/**
 * express-rate-limit's Redis store (rate-limit-redis), driven directly:
 * `store.increment(key)` is what the middleware awaits per request.
 */
export function rateLimitRedisVariant(
  name: string,
  redis: RedisConnection,
  prefix: string,
  windowMs: number,
  subjects: SubjectDistribution,
): Variant {
  const store = new RedisStore({
    prefix: `${prefix}:`,
    // The README's ioredis adapter, except that SCRIPT LOAD goes to every master (see loadOnEveryMaster).
    sendCommand: (command: string, ...args: string[]) =>
      command === 'SCRIPT'
        ? loadOnEveryMaster(redis, args[1] as string)
        : (redis.call(command, ...args) as Promise<RedisReply>),
  });
  const increment = (i: number) => store.increment(subjects.tagged(i));
  return {
    name,
    async setup() {
      // The middleware calls init with its full options; the store reads only windowMs.
      await store.init({ windowMs } as ExpressRateLimitOptions);
      await increment(0);
    },
    run: increment,
  };
}
