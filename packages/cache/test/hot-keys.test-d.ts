import { Cache, type CacheEvents, type CacheHotKey } from '@redkit/cache';
import type { RedisConnection } from '@redkit/core';
import { describe, expectTypeOf, it } from 'vitest';

declare const redis: RedisConnection;

describe('hot-key types', () => {
  it('hotKeys() lists keys with their estimate and whether they are pinned', () => {
    const cache = new Cache({ redis, hotKeys: { threshold: 500, window: '10s', pin: { maxEntries: 16 } } });
    expectTypeOf(cache.hotKeys()).toEqualTypeOf<CacheHotKey[]>();
    expectTypeOf<CacheHotKey>().toEqualTypeOf<{
      readonly key: string;
      readonly estimate: number;
      readonly pinned: boolean;
    }>();
    expectTypeOf<CacheEvents['hot-key']>().toEqualTypeOf<{ key: string; estimate: number; pinned: boolean }>();
  });

  it('replicas is a number, readRedis a client; detector options are checked', () => {
    new Cache({ redis, replicas: 6, readRedis: redis, hotKeys: false });
    // @ts-expect-error replicas is a count
    new Cache({ redis, replicas: '6' });
    // @ts-expect-error an unknown detector option
    new Cache({ redis, hotKeys: { treshold: 5 } });
  });
});
