import { type PolicyInput, RateLimiter } from '@redkit/ratelimit';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { MemoryLimiter } from '../src/memory-limiter.js';
import { rateLimiterOptionsSchema } from '../src/options.js';

/**
 * The Lua script and the in-process fallback implement the same algorithms.
 * With windows far longer than the test, time does not move the numbers, so
 * the same sequence of calls must give the same answers from both.
 */
const policies: PolicyInput[] = [
  { name: 'fixed', algorithm: 'fixed-window', limit: 7, window: '1h', align: 'first-hit' },
  { name: 'sliding', algorithm: 'sliding-window', limit: 9, window: '1d' },
  { name: 'log', algorithm: 'sliding-log', limit: 8, window: '1h' },
  { name: 'bucket', algorithm: 'token-bucket', capacity: 6, refillRate: 1, interval: '1d' },
  { name: 'gcra', algorithm: 'gcra', limit: 1, period: '1d', burst: 5 },
  { name: 'leases', algorithm: 'concurrency', limit: 4, leaseTtl: '1h' },
];
const costs = [1, 2, 1, 3, 1, 1, 2, 1, 1, 1];

describeTopologies('Lua and fallback agree', (t) => {
  it.each(policies.map((policy) => [policy.name, policy] as const))('%s', async (_name, policy) => {
    for (const consumeOnDeny of [false, true]) {
      const redisLimiter = new RateLimiter({
        redis: t.redis,
        timeout: '10s',
        namespace: t.namespace,
        policies: [policy],
        consumeOnDeny,
      });
      const resolved = rateLimiterOptionsSchema.parse({ redis: t.redis, policies: [policy] }).policies;
      const memory = new MemoryLimiter(resolved, 10);
      const subject = `mirror-${Math.random()}`;
      for (const [index, cost] of costs.entries()) {
        const fromRedis = await redisLimiter.limit(subject, { cost });
        const fromMemory = memory.check(subject, cost, { consume: true, consumeOnDeny, id: String(index) });
        const shape = (allowed: boolean, p: { allowed: boolean; limit: number; remaining: number }) => ({
          allowed,
          policy: [p.allowed, p.limit, p.remaining],
        });
        expect(shape(fromMemory.allowed, fromMemory.policies[0] as never), `call ${index} (cost ${cost})`).toEqual(
          shape(fromRedis.wouldAllow, fromRedis.policies[0] as never),
        );
      }
    }
  });
});
