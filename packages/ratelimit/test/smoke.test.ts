import { RateLimiter } from '@redkit/ratelimit';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';

describeTopologies('smoke', (t) => {
  it('admits up to the limit, then denies', async () => {
    const limiter = new RateLimiter({
      redis: t.redis,
      namespace: t.namespace,
      policies: [
        { name: 'a', algorithm: 'fixed-window', limit: 3, window: '1h', align: 'first-hit' },
        { name: 'b', algorithm: 'sliding-window', limit: 5, window: '1h' },
        { name: 'c', algorithm: 'sliding-log', limit: 5, window: '1h' },
        { name: 'd', algorithm: 'token-bucket', capacity: 5, refillRate: 1, interval: '1h' },
        { name: 'e', algorithm: 'gcra', limit: 1, period: '1h', burst: 5 },
        { name: 'f', algorithm: 'concurrency', limit: 5, leaseTtl: '1m' },
      ],
    });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await limiter.limit('u1'));
    console.log(
      JSON.stringify(
        results.map((r) => [
          r.allowed,
          r.remaining,
          r.retryAfterMs,
          r.policies.map((p) => [p.name, p.allowed, p.remaining, p.resetAfterMs, p.retryAfterMs]),
        ]),
      ),
    );
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
  });
});
