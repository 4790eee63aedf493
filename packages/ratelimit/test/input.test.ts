import { InvalidOptionsError } from '@redkit/core';
import { RateLimiter, type RateLimiterOptions } from '@redkit/ratelimit';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { keysOf } from './helpers.js';

describeTopologies('bad input', (t) => {
  const base = (): RateLimiterOptions => ({
    redis: t.redis,
    namespace: t.namespace,
    policies: [{ algorithm: 'fixed-window', limit: 10, window: '1m' }],
  });

  describe('constructor', () => {
    it.each<[string, (options: RateLimiterOptions) => unknown, string]>([
      [
        'negative limit',
        (o) => ({ ...o, policies: [{ algorithm: 'fixed-window', limit: -1, window: '1m' }] }),
        'policies.0.limit',
      ],
      [
        'zero window',
        (o) => ({ ...o, policies: [{ algorithm: 'sliding-window', limit: 1, window: 0 }] }),
        'policies.0.window: must be greater than 0',
      ],
      [
        'bad window text',
        (o) => ({ ...o, policies: [{ algorithm: 'fixed-window', limit: 1, window: 'soon' }] }),
        'policies.0.window: "soon" is not a duration',
      ],
      [
        'unknown algorithm',
        (o) => ({ ...o, policies: [{ algorithm: 'leaky', limit: 1, window: '1s' }] }),
        'policies.0.algorithm',
      ],
      ['no policy', (o) => ({ ...o, policies: [] }), 'policies: needs at least one policy'],
      [
        'duplicate names',
        (o) => ({
          ...o,
          policies: [
            { name: 'x', algorithm: 'fixed-window', limit: 1, window: '1s' },
            { name: 'x', algorithm: 'gcra', limit: 1, period: '1s' },
          ],
        }),
        'policies.1.name: duplicate policy name "x"',
      ],
      [
        'bad policy name',
        (o) => ({ ...o, policies: [{ name: 'a b', algorithm: 'fixed-window', limit: 1, window: '1s' }] }),
        'policies.0.name',
      ],
      [
        'sliding log too large',
        (o) => ({ ...o, policies: [{ algorithm: 'sliding-log', limit: 20_000, window: '1s' }] }),
        'policies.0.limit',
      ],
      [
        'token bucket without capacity',
        (o) => ({ ...o, policies: [{ algorithm: 'token-bucket', refillRate: 1 }] }),
        'policies.0.capacity',
      ],
      [
        'fractional burst',
        (o) => ({ ...o, policies: [{ algorithm: 'gcra', limit: 1, period: '1s', burst: 1.5 }] }),
        'policies.0.burst',
      ],
      [
        'lease ttl missing',
        (o) => ({ ...o, policies: [{ algorithm: 'concurrency', limit: 1 }] }),
        'policies.0.leaseTtl',
      ],
      ['not a client', (o) => ({ ...o, redis: {} }), 'redis: must be an ioredis Redis or Cluster instance'],
      ['bad namespace', (o) => ({ ...o, namespace: 'a{b' }), 'namespace'],
      ['failure mode typo', (o) => ({ ...o, failure: { mode: 'opne' } }), 'failure.mode'],
      [
        'fallback share above 1',
        (o) => ({ ...o, failure: { mode: 'fallback', fallbackShare: 2 } }),
        'failure.fallbackShare',
      ],
      ['penalty threshold 0', (o) => ({ ...o, penalty: { threshold: 0, block: '1m' } }), 'penalty.threshold'],
      ['zero timeout', (o) => ({ ...o, timeout: 0 }), 'timeout: must be greater than 0'],
      ['unknown option', (o) => ({ ...o, window: '1m' }), 'window'],
    ])('%s → InvalidOptionsError naming %s', (_case, change, field) => {
      const attempt = () => new RateLimiter(change(base()) as RateLimiterOptions);
      expect(attempt).toThrow(InvalidOptionsError);
      expect(attempt).toThrow(field);
    });
  });

  describe('calls', () => {
    it.each<[string, (limiter: RateLimiter) => Promise<unknown>, string]>([
      [
        'cost above the smallest capacity',
        (l) => l.limit('s', { cost: 11 }),
        'cost: must not exceed 10, the capacity of policy "fixed-window-0"',
      ],
      ['zero cost', (l) => l.limit('s', { cost: 0 }), 'cost'],
      ['fractional cost', (l) => l.limit('s', { cost: 1.5 }), 'cost'],
      ['empty subject', (l) => l.limit(''), 'subject: must not be empty'],
      ['subject not a string', (l) => l.limit(42 as never), 'subject: Invalid input: expected string'],
      ['refund of a bad cost', (l) => l.refund('s', { cost: -1 }), 'cost'],
      ['block without a duration', (l) => l.block('s', 0), 'duration: must be greater than 0'],
      ['peek of a bad cost', (l) => l.peek('s', { cost: 100 }), 'cost'],
      ['block without the blocks option', (l) => l.block('s', '1s'), 'blocks: must be true'],
    ])('%s → InvalidOptionsError, nothing written', async (_case, call, field) => {
      const limiter = new RateLimiter(base());
      await expect(call(limiter)).rejects.toThrow(InvalidOptionsError);
      await expect(call(limiter)).rejects.toThrow(field);
      expect(await keysOf(t.redis, t.namespace)).toEqual([]);
    });
  });
});
