import { Cache, type CacheOptions } from '@redkit/cache';
import { InvalidOptionsError } from '@redkit/core';
import { badCallsContract, badOptionsContract } from '@redkit/testing/contracts';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, describe, expect, it } from 'vitest';

describeTopologies('bad input', (t) => {
  const options = (): CacheOptions => ({ redis: t.redis, namespace: t.namespace });

  describe('constructor', () => {
    badOptionsContract([
      ['ttl 0', () => new Cache({ ...options(), ttl: 0 }), 'ttl'],
      ['negative ttl', () => new Cache({ ...options(), ttl: -5 }), 'ttl: must not be negative'],
      ['ttl not a duration', () => new Cache({ ...options(), ttl: 'a while' as never }), 'ttl'],
      ['negative grace', () => new Cache({ ...options(), grace: -1 }), 'grace'],
      ['jitter above 0.5', () => new Cache({ ...options(), jitter: 0.9 }), 'jitter'],
      ['refreshAhead fraction 1', () => new Cache({ ...options(), refreshAhead: { fraction: 1 } }), 'refreshAhead'],
      ['refreshAhead beta 0', () => new Cache({ ...options(), refreshAhead: { beta: 0 } }), 'refreshAhead'],
      ['l1 maxEntries 0', () => new Cache({ ...options(), l1: { maxEntries: 0 } }), 'l1.maxEntries'],
      [
        'serializer without deserialize',
        () => new Cache({ ...options(), serializer: { serialize: String } as never }),
        'serializer',
      ],
      [
        'schema not a schema',
        () => new Cache({ ...options(), schema: {} as never }),
        'schema: must be a Standard Schema',
      ],
      ['bad schemaVersion', () => new Cache({ ...options(), schemaVersion: 'v 2' }), 'schemaVersion'],
      ['breaker failures 0', () => new Cache({ ...options(), breaker: { failures: 0 } }), 'breaker.failures'],
      ['bad namespace', () => new Cache({ ...options(), namespace: 'a b' }), 'namespace'],
      ['not a client', () => new Cache({ ...options(), redis: {} as never }), 'redis: must be an ioredis'],
      ['unknown option', () => new Cache({ ...options(), tll: 5 } as never), 'tll'],
    ]);
  });

  describe('calls', () => {
    const cache = new Cache(options());
    const loader = async () => 1;

    afterAll(async () => {
      await cache.close();
    });

    badCallsContract(
      [
        ['empty key', () => cache.getOrSet('', loader), 'key: must not be empty'],
        ['key not a string', () => cache.get(42 as never), 'key: must be a string'],
        ['key too long', () => cache.set('k'.repeat(1025), 1), 'key: must be at most 1024'],
        ['loader not a function', () => cache.getOrSet('k', 'soon' as never), 'loader: must be a function'],
        ['ttl 0 on a call', () => cache.getOrSet('k', loader, { ttl: 0 }), 'ttl'],
        ['bad tag', () => cache.set('k', 1, { tags: ['has space'] }), 'tags.0'],
        ['tagged entry outliving tagTtl', () => cache.set('k', 1, { tags: ['t'], ttl: '30d' }), 'ttl: ttl + grace'],
        ['unknown call option', () => cache.set('k', 1, { tag: ['x'] } as never), 'tag'],
        ['keys not an array', () => cache.getMany('k' as never), 'keys: must be an array'],
        ['a bad key among many', () => cache.getMany(['a', '']), 'keys.1'],
        ['bad tag to invalidate', () => cache.invalidateTags(['']), 'tags.0'],
        ['writeThrough with a bad key', () => cache.writeThrough('', 1, async () => undefined), 'key'],
      ],
      { redis: () => t.redis, namespace: t.namespace },
    );

    it('wrap checks its functions when it is created', () => {
      expect(() => cache.wrap('nope' as never, () => 'k')).toThrow(InvalidOptionsError);
      expect(() => cache.wrap(async () => 1, 'nope' as never)).toThrow('keyFn');
    });
  });
});
