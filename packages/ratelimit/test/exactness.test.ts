import { type PolicyInput, RateLimiter } from '@redkit/ratelimit';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';

/** Counting is what these tests check, not latency: a slow moment on a busy machine must not fail open. */
const timeout = '10s';

/**
 * The invariant: with N requests racing from several clients, exactly the
 * limit is admitted. Windows are long enough that no boundary or refill falls
 * inside the test, so the expected count is the limit itself.
 */
const limit = 100;
const cases: [string, PolicyInput][] = [
  ['fixed window (clock)', { algorithm: 'fixed-window', limit, window: '1d' }],
  ['fixed window (first hit)', { algorithm: 'fixed-window', limit, window: '1h', align: 'first-hit' }],
  ['sliding window', { algorithm: 'sliding-window', limit, window: '1d' }],
  ['sliding log', { algorithm: 'sliding-log', limit, window: '1h' }],
  ['token bucket', { algorithm: 'token-bucket', capacity: limit, refillRate: 1, interval: '1d' }],
  ['GCRA', { algorithm: 'gcra', limit: 1, period: '1d', burst: limit }],
  ['concurrency', { algorithm: 'concurrency', limit, leaseTtl: '1h' }],
];

describeTopologies('exactness under concurrency', (t) => {
  describe.each(cases)('%s', (_name, policy) => {
    it(`admits exactly ${limit} of 1,000 concurrent requests from 4 clients`, async () => {
      const limiters = Array.from(
        { length: 4 },
        () => new RateLimiter({ redis: t.client(), namespace: t.namespace, policies: [policy], timeout }),
      );
      const subject = `exact-${policy.algorithm}-${Math.random()}`;
      const results = await Promise.all(
        Array.from({ length: 1_000 }, (_, index) => (limiters[index % 4] as RateLimiter).limit(subject)),
      );
      expect(results.every((result) => result.decidedBy === 'redis')).toBe(true);
      expect(results.filter((result) => result.allowed)).toHaveLength(limit);
      const remaining = results.filter((result) => result.allowed).map((result) => result.remaining);
      // Each admitted request saw a distinct count: remaining runs from limit-1 down to 0.
      expect(new Set(remaining).size).toBe(limit);
      expect(Math.min(...remaining)).toBe(0);
    });
  });

  it('admits exactly the smallest limit when several policies apply', async () => {
    const limiters = Array.from(
      { length: 4 },
      () =>
        new RateLimiter({
          redis: t.client(),
          namespace: t.namespace,
          timeout,
          policies: [
            { name: 'minute', algorithm: 'fixed-window', limit: 150, window: '1h', align: 'first-hit' },
            { name: 'day', algorithm: 'sliding-log', limit: 60, window: '1d' },
            { name: 'bucket', algorithm: 'token-bucket', capacity: 80, refillRate: 1, interval: '1d' },
          ],
        }),
    );
    const subject = `exact-multi-${Math.random()}`;
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, index) => (limiters[index % 4] as RateLimiter).limit(subject)),
    );
    expect(results.filter((result) => result.allowed)).toHaveLength(60);
    // Nothing was taken from the other policies by the denied requests.
    const after = await (limiters[0] as RateLimiter).peek(subject);
    expect(after.policies.map((policy) => [policy.name, policy.remaining])).toEqual([
      ['minute', 90],
      ['day', 0],
      ['bucket', 20],
    ]);
  });
});
