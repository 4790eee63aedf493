import { Cache, type CacheOptions } from '@redkit/cache';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, expect, it } from 'vitest';
import { nextEvent, sleep } from './helpers.js';

describeTopologies('in-memory tier coherence and write-through', (t) => {
  const caches: Cache[] = [];
  afterAll(() => Promise.all(caches.map((cache) => cache.close())));
  const pair = async (namespace: string, extra: Partial<CacheOptions> = {}) => {
    const made = [0, 1].map(() => {
      const cache = new Cache({ redis: t.client(), namespace, ttl: '1m', l1: { maxEntries: 1_000 }, ...extra });
      caches.push(cache);
      return cache;
    }) as [Cache, Cache];
    // The memory tier fills only once its invalidation subscription is confirmed.
    await Promise.all(made.map((cache) => cache.ready()));
    return made;
  };

  /** Waits until `cache`'s memory tier dropped `key` (the invalidation arrived): its next read goes to Redis. */
  const invalidated = (cache: Cache, key: string) =>
    nextEvent(cache.events, 'hit', { matches: (hit) => hit.key === key && hit.tier === 'redis' });

  it('hits come from memory; a set on one instance is seen by the other after the invalidation', async () => {
    const [a, b] = await pair(`${t.namespace}:set`);
    await a.set('k', 'v1');
    expect(await b.getOrSet('k', async () => 'unused')).toBe('v1');
    const tiers: string[] = [];
    b.events.on('hit', ({ tier }) => tiers.push(tier));
    expect(await b.get('k')).toBe('v1');
    expect(tiers).toEqual(['memory']);
    // The write publishes an invalidation; poll reads until b goes back to Redis, then check what it sees.
    await a.set('k', 'v2');
    const seen = invalidated(b, 'k');
    let value: unknown;
    for (let i = 0; i < 200; i++) {
      value = await b.get('k');
      if (tiers.at(-1) === 'redis') break;
      await sleep(5);
    }
    await seen;
    expect(value).toBe('v2');
    expect(await b.get('k')).toBe('v2');
  });

  it('a delete on one instance is seen by the other', async () => {
    const [a, b] = await pair(`${t.namespace}:delete`);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    const misses: string[] = [];
    b.events.on('miss', ({ key }) => misses.push(key));
    await a.delete('k');
    for (let i = 0; i < 200 && misses.length === 0; i++) {
      await b.get('k');
      await sleep(5);
    }
    expect(misses).toEqual(['k']);
    expect(await b.get('k')).toBeUndefined();
  });

  it('a late invalidation never resurrects an old value, and an old read cannot fill memory after a newer write', async () => {
    const [a, b] = await pair(`${t.namespace}:late`);
    await a.set('k', 'v1');
    await b.get('k');
    await a.set('k', 'v2');
    await a.set('k', 'v3');
    // Whatever order b's invalidations and reads interleave in, once it has seen v3 it never goes back.
    const seen: unknown[] = [];
    for (let i = 0; i < 100; i++) {
      seen.push(await b.get('k'));
      await sleep(2);
    }
    const firstV3 = seen.indexOf('v3');
    expect(firstV3).toBeGreaterThanOrEqual(0);
    expect(seen.slice(firstV3).every((value) => value === 'v3')).toBe(true);
  });

  it('write-through: after a completed write, no reader on any instance sees the older value', async () => {
    const namespace = `${t.namespace}:wt`;
    const writer = new Cache({ redis: t.client(), namespace, ttl: '1m' });
    const readers = [0, 1, 2].map(() => new Cache({ redis: t.client(), namespace, ttl: '1m' }));
    caches.push(writer, ...readers);
    const database = new Map<string, number>([['row', 0]]);
    // Readers keep loading through the cache with a slow loader (a load may start before a write and end after it).
    let running = true;
    let completed = 0;
    const violations: string[] = [];
    const reading = readers.map(async (reader) => {
      while (running) {
        const floor = completed;
        const value = (await reader.getOrSet('row', async () => {
          const read = database.get('row') as number;
          await sleep(Math.random() * 20);
          return read;
        })) as number;
        if (value < floor) violations.push(`read ${value} after write ${floor} completed`);
      }
    });
    for (let version = 1; version <= 30; version++) {
      await writer.writeThrough('row', version, async (value) => {
        await sleep(5);
        database.set('row', value as number);
      });
      completed = version;
      await sleep(10);
    }
    running = false;
    await Promise.all(reading);
    expect(violations).toEqual([]);
    expect(await readers[0]?.get('row')).toBe(30);
  });

  it('write-through: when save fails nothing is cached', async () => {
    const namespace = `${t.namespace}:wtfail`;
    const cache = new Cache({ redis: t.redis, namespace });
    caches.push(cache);
    await cache.set('row', 'before');
    await expect(
      cache.writeThrough('row', 'after', async () => {
        throw new Error('constraint violated');
      }),
    ).rejects.toThrow('constraint violated');
    expect(await cache.get('row')).toBe('before');
  });

  it('the memory tier is bounded by maxEntries', async () => {
    const small = new Cache({ redis: t.redis, namespace: `${t.namespace}:small`, l1: { maxEntries: 10 } });
    caches.push(small);
    await small.ready();
    for (let i = 0; i < 50; i++) await small.set(`k${i}`, i);
    const tiers: string[] = [];
    small.events.on('hit', ({ tier }) => tiers.push(tier));
    for (let i = 0; i < 50; i++) expect(await small.get(`k${i}`)).toBe(i);
    expect(tiers.filter((tier) => tier === 'memory').length).toBeLessThanOrEqual(10);
  });
});
