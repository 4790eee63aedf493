import { InvalidOptionsError } from '@redkit/core';
import { ShardedCounter, type ShardedCounterOptions } from '@redkit/hotkeys';
import { badOptionsContract } from '@redkit/testing/contracts';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { keysOf } from './helpers.js';

describeTopologies('bad input', (t) => {
  const options = (): ShardedCounterOptions => ({ redis: t.redis, namespace: t.namespace, name: 'views' });

  afterAll(async () => {
    // Nothing reached Redis: no key of this namespace exists on any node.
    expect(await keysOf(t.redis, t.namespace)).toEqual([]);
  });

  describe('ShardedCounter options', () => {
    badOptionsContract([
      ['empty name', () => new ShardedCounter({ ...options(), name: '' }), 'name: must not be empty'],
      ['name not a string', () => new ShardedCounter({ ...options(), name: 7 as never }), 'name'],
      ['bad namespace', () => new ShardedCounter({ ...options(), namespace: 'a{b}' }), 'namespace'],
      ['not a client', () => new ShardedCounter({ ...options(), redis: {} as never }), 'redis: must be an ioredis'],
      ['shards 0', () => new ShardedCounter({ ...options(), shards: 0 }), 'shards'],
      ['shards 1.5', () => new ShardedCounter({ ...options(), shards: 1.5 }), 'shards: must be a whole number'],
      ['shards 2000', () => new ShardedCounter({ ...options(), shards: 2000 }), 'shards: must be at most 1024'],
      ['ttl', () => new ShardedCounter({ ...options(), ttl: 'soon' as never }), 'ttl'],
      ['ttl 0', () => new ShardedCounter({ ...options(), ttl: 0 }), 'ttl'],
      ['waitForReplicas', () => new ShardedCounter({ ...options(), waitForReplicas: -1 }), 'waitForReplicas'],
      ['waitTimeout', () => new ShardedCounter({ ...options(), waitTimeout: 0 }), 'waitTimeout'],
      ['timeout', () => new ShardedCounter({ ...options(), timeout: '1y' as never }), 'timeout'],
      ['unknown option', () => new ShardedCounter({ ...options(), shard: 4 } as never), 'shard'],
    ]);
  });

  describe('increment(by)', () => {
    const counter = new ShardedCounter(options());
    it.each<[string, unknown]>([
      ['a fraction', 1.5],
      ['a string', '1'],
      ['NaN', Number.NaN],
      ['beyond 2^53', 2 ** 53],
      ['Infinity', Number.POSITIVE_INFINITY],
    ])('%s → InvalidOptionsError naming `by`', async (_case, by) => {
      const error = await counter.increment(by as number).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((issue) => issue.path)).toEqual(['by']);
    });
  });
});
