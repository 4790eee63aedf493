import { Cache, type CacheEvents, type CacheOptions, type CacheTier } from '@redkit/cache';
import { InvalidOptionsError, type RedisConnection } from '@redkit/core';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { keysOf, nextEvent, sleep } from './helpers.js';

/** Counts every command the client sends (the cluster client's and a standalone client's sendCommand). */
function countCommands(client: RedisConnection): { readonly count: number; stop(): void } {
  const spy = vi.spyOn(client as unknown as { sendCommand: (...args: unknown[]) => unknown }, 'sendCommand');
  return {
    get count() {
      return spy.mock.calls.length;
    },
    stop: () => spy.mockRestore(),
  };
}

describeTopologies('hot keys: detection and L1 pinning', (t) => {
  const caches: Cache[] = [];
  afterAll(() => Promise.all(caches.map((cache) => cache.close())));
  const make = async (namespace: string, extra: Partial<CacheOptions> = {}) => {
    const redis = t.client();
    const cache = new Cache({ redis, namespace, ttl: '1m', ...extra });
    caches.push(cache);
    await cache.ready();
    return { cache, redis };
  };

  it('detects a hot key from its reads, reports it once, and lists it in hotKeys()', async () => {
    const { cache } = await make(`${t.namespace}:detect`, { hotKeys: { threshold: 20, pin: false } });
    const hot: CacheEvents['hot-key'][] = [];
    cache.events.on('hot-key', (event) => hot.push(event));
    await cache.set('hot', 'v');
    await cache.set('warm', 'v');
    for (let i = 0; i < 19; i++) await cache.get('hot');
    for (let i = 0; i < 5; i++) await cache.getOrSet('warm', async () => 'unused');
    expect(hot).toEqual([]);
    await cache.getMany(['hot']);
    expect(hot).toEqual([{ key: 'hot', estimate: 20, pinned: false }]);
    for (let i = 0; i < 10; i++) await cache.get('hot');
    expect(hot).toHaveLength(1);
    expect(cache.hotKeys()).toEqual([{ key: 'hot', estimate: 30, pinned: false }]);
  });

  it('after a key becomes hot, reads do not reach Redis until another instance invalidates it', async () => {
    const namespace = `${t.namespace}:pin`;
    // No l1: the pinned set is the only memory.
    const { cache: reader, redis } = await make(namespace, { hotKeys: { threshold: 10 } });
    const { cache: writer } = await make(namespace);
    await writer.set('k', 'v1');
    const became = nextEvent(reader.events, 'hot-key');
    for (let i = 0; i < 10; i++) expect(await reader.getOrSet('k', async () => 'unused')).toBe('v1');
    expect(await became).toEqual({ key: 'k', estimate: 10, pinned: true });
    // The read after it became hot fills the pinned entry; from then on nothing is sent.
    expect(await reader.get('k')).toBe('v1');
    const tiers: CacheTier[] = [];
    reader.events.on('hit', ({ tier }) => tiers.push(tier));
    const commands = countCommands(redis);
    try {
      for (let i = 0; i < 200; i++) {
        expect(await (i % 2 ? reader.get('k') : reader.getOrSet('k', async () => 'unused'))).toBe('v1');
      }
      expect(commands.count).toBe(0);
      expect(tiers).toEqual(Array(200).fill('memory'));
      expect(reader.hotKeys()).toEqual([{ key: 'k', estimate: expect.any(Number), pinned: true }]);

      // Another instance writes: the invalidation drops the pinned value, one GET brings the new one.
      await writer.set('k', 'v2');
      let value: unknown = 'v1';
      for (let i = 0; i < 1_000 && value === 'v1'; i++) {
        value = await reader.get('k');
        if (value === 'v1') await sleep(2);
      }
      expect(value).toBe('v2');
      expect(commands.count).toBe(1);
      expect(tiers.filter((tier) => tier === 'redis')).toHaveLength(1);
      // Still pinned: the next reads are memory hits again.
      for (let i = 0; i < 50; i++) expect(await reader.get('k')).toBe('v2');
      expect(commands.count).toBe(1);

      // A delete elsewhere is seen too.
      await writer.delete('k');
      for (let i = 0; i < 1_000 && value === 'v2'; i++) {
        value = await reader.get('k');
        if (value === 'v2') await sleep(2);
      }
      expect(value).toBeUndefined();
    } finally {
      commands.stop();
    }
  });

  it('a pinned key outlives the l1 LRU evicting it, and is unpinned when a hotter key takes its place', async () => {
    const { cache, redis } = await make(`${t.namespace}:evict`, {
      l1: { maxEntries: 2 },
      hotKeys: { threshold: 5, topK: 1 },
    });
    const cooled: string[] = [];
    cache.events.on('hot-key-cooled', ({ key }) => cooled.push(key));
    await cache.set('a', 'A');
    for (let i = 0; i < 6; i++) await cache.get('a');
    expect(cache.hotKeys()).toEqual([{ key: 'a', estimate: 6, pinned: true }]);
    // Fill the LRU (2 entries) several times over: 'a' is not in it, so it is not evicted.
    for (let i = 0; i < 5; i++) await cache.getOrSet(`other${i}`, async () => i);
    const commands = countCommands(redis);
    try {
      expect(await cache.get('a')).toBe('A');
      expect(commands.count).toBe(0);
    } finally {
      commands.stop();
    }
    // 'a' was read 7 times; 'b' read 8 times is hotter and takes the only top-K place.
    await cache.set('b', 'B');
    for (let i = 0; i < 7; i++) await cache.get('b');
    expect(cooled).toEqual([]);
    await cache.get('b');
    expect(cooled).toEqual(['a']);
    expect(cache.hotKeys()).toEqual([{ key: 'b', estimate: 8, pinned: true }]);
  });

  describe('bad options', () => {
    it.each<[string, Partial<CacheOptions>, string]>([
      ['hotKeys threshold 0', { hotKeys: { threshold: 0 } }, 'hotKeys.threshold'],
      ['hotKeys unknown field', { hotKeys: { treshold: 5 } as never }, 'treshold'],
      ['pin maxEntries 0', { hotKeys: { pin: { maxEntries: 0 } } }, 'hotKeys.pin.maxEntries'],
      ['replicas -1', { replicas: -1 }, 'replicas'],
      ['replicas 2.5', { replicas: 2.5 }, 'replicas'],
      ['replicas 100', { replicas: 100 }, 'replicas'],
      ['readRedis not a client', { readRedis: {} as never }, 'readRedis'],
      ['replicas with writeBehind', { replicas: 6, writeBehind: {} }, 'replicas: cannot be combined with writeBehind'],
    ])('%s → InvalidOptionsError naming the field, nothing written', async (_case, extra, message) => {
      const namespace = `${t.namespace}:bad`;
      const create = () => new Cache({ redis: t.redis, namespace, ...extra });
      expect(create).toThrow(InvalidOptionsError);
      expect(create).toThrow(message);
      expect(await keysOf(t.redis, namespace)).toEqual([]);
    });
  });
});
