import { RedkitKeyvStore } from '@redkit/cache/keyv';
import { Keyspace } from '@redkit/core';
import { describeTopologies } from '@redkit/testing/vitest';
import { createCache } from 'cache-manager';
import Keyv from 'keyv';
import { afterAll, expect, it } from 'vitest';
import { keysOf } from './helpers.js';

/**
 * cache-manager 7 over the adapter, as its README sets it up
 * (`createCache({ stores: [new Keyv({ store })] })`): its calls keep their
 * meaning and the entries land in redkit's layout.
 */
describeTopologies('cache-manager 7 through the Keyv store', (t) => {
  const store = () => new RedkitKeyvStore({ redis: t.redis, namespace: t.namespace });
  const cache = createCache({ stores: [new Keyv({ store: store(), namespace: 'cm' })] });
  const redisKey = (key: string) => new Keyspace(t.namespace).key(`cm:${key}`, 'kv');
  afterAll(() => cache.clear());

  it('set, get and del', async () => {
    expect(await cache.set('user:1', { name: 'Ada' })).toEqual({ name: 'Ada' });
    expect(await cache.get('user:1')).toEqual({ name: 'Ada' });
    expect(await t.redis.exists(redisKey('user:1'))).toBe(1);
    expect(await cache.del('user:1')).toBe(true);
    expect(await cache.get('user:1')).toBeUndefined();
    expect(await t.redis.exists(redisKey('user:1'))).toBe(0);
  });

  it('a ttl in ms expires the Redis key and is what ttl() reports', async () => {
    const before = Date.now();
    await cache.set('short', 1, 30_000);
    const expires = await cache.ttl('short');
    expect(expires).toBeGreaterThanOrEqual(before + 30_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 30_000);
    const pttl = await t.redis.pttl(redisKey('short'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(30_000);
  });

  it('wrap loads once for concurrent callers, then serves the stored value', async () => {
    let loads = 0;
    const load = async () => {
      loads++;
      return { id: 7, loads };
    };
    const first = await Promise.all(Array.from({ length: 10 }, () => cache.wrap('product:7', load, 60_000)));
    expect(first).toEqual(Array.from({ length: 10 }, () => ({ id: 7, loads: 1 })));
    expect(await cache.wrap('product:7', load, 60_000)).toEqual({ id: 7, loads: 1 });
    expect(loads).toBe(1);
    expect(await t.redis.exists(redisKey('product:7'))).toBe(1);
  });

  it('mset, mget and mdel across slots', async () => {
    const keys = Array.from({ length: 12 }, (_, index) => `many:${index}`);
    await cache.mset(keys.map((key, index) => ({ key, value: index, ttl: 60_000 })));
    expect(await cache.mget([...keys, 'many:missing'])).toEqual([...keys.map((_, index) => index), undefined]);
    expect(await cache.mdel(keys)).toBe(true);
    expect(await cache.mget(keys)).toEqual(keys.map(() => undefined));
  });

  it("clear() empties this cache's namespace only", async () => {
    const other = new Keyv({ store: store(), namespace: 'other' });
    await other.set('kept', 1);
    await cache.set('gone', 1);
    await cache.clear();
    expect(await cache.get('gone')).toBeUndefined();
    expect(await other.get('kept')).toBe(1);
    expect(await keysOf(t.redis, t.namespace)).toEqual([new Keyspace(t.namespace).key('other:kept', 'kv')]);
    await other.clear();
  });
});
