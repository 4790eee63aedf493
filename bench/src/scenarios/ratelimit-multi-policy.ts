import { RateLimiterUnion } from 'rate-limiter-flexible';
import type { Scenario, Target, Variant } from '../scenario.js';
import { admitAll, rateLimiterFlexibleLimiter, redkitVariant } from './ratelimit-variants.js';
import { randomSubjects, type SubjectDistribution } from './subjects.js';

/**
 * rate-limiter-flexible's way to enforce several limits: `RateLimiterUnion`
 * consumes from each limiter (one EVALSHA each) and awaits them together.
 * Not atomic: a request denied by one limiter has still consumed from the others.
 */
function unionVariant(redis: Target['redis'], subjects: SubjectDistribution): Variant {
  const union = new RateLimiterUnion(
    rateLimiterFlexibleLimiter(redis, 'bench-rlf-mp-second', 1),
    rateLimiterFlexibleLimiter(redis, 'bench-rlf-mp-day', 86_400),
    rateLimiterFlexibleLimiter(redis, 'bench-rlf-mp-minute', 60),
  );
  const consume = (i: number) => union.consume(subjects.tagged(i));
  return {
    name: 'rate-limiter-flexible-union-3',
    async setup() {
      await consume(0);
    },
    run: consume,
  };
}

const subjects = randomSubjects;

export const rateLimitMultiPolicy: Scenario = {
  name: 'ratelimit-multi-policy',
  title: `three policies per check, ${subjects.label}`,
  description:
    `One check per operation against 3 limits at once, on ${subjects.label}, every limit at ` +
    `${admitAll.toLocaleString('en-US')} so every check is admitted and consumes from all of them. ` +
    '`redkit-3-policies`: one `RateLimiter` with a clock-aligned 1-second `fixed-window`, a 1-day ' +
    '`sliding-window` and a `token-bucket`, checked and consumed atomically by one EVALSHA. `redkit-1-policy` ' +
    '(the baseline) is the same limiter with the fixed window only, so its ratio is the price of two more ' +
    'policies. `rate-limiter-flexible-union-3`: what its users write today, a `RateLimiterUnion` of three ' +
    '`RateLimiterRedis` (1 s, 1 day and, having no token bucket, 1 minute), which sends one EVALSHA per ' +
    'limiter and awaits them together; it is not atomic (a request one limiter denies has still been counted ' +
    'by the others). The figure to read is round trips (EVALSHA per op) and commands per op.',
  baseline: 'redkit-1-policy',
  variants: ({ redis }) => [
    redkitVariant(
      'redkit-1-policy',
      redis,
      'bench-rk-mp1',
      [{ name: 'second', algorithm: 'fixed-window', limit: admitAll, window: '1s' }],
      subjects,
    ),
    redkitVariant(
      'redkit-3-policies',
      redis,
      'bench-rk-mp3',
      [
        { name: 'second', algorithm: 'fixed-window', limit: admitAll, window: '1s' },
        { name: 'day', algorithm: 'sliding-window', limit: admitAll, window: '1d' },
        { name: 'bucket', algorithm: 'token-bucket', capacity: admitAll, refillRate: admitAll, interval: '1s' },
      ],
      subjects,
    ),
    unionVariant(redis, subjects),
  ],
};
