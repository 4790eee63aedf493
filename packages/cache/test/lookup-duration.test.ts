import { Cache, type CacheEvents } from '@redkit/cache';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';

describeTopologies('hit and miss events carry the lookup latency', (t) => {
  it('durationMs on every hit (memory and Redis) and miss, of getOrSet and get', async () => {
    const cache = new Cache({ redis: t.redis, namespace: t.namespace, ttl: '1m', l1: { maxEntries: 10 } });
    const other = new Cache({ redis: t.redis, namespace: t.namespace, ttl: '1m' });
    await cache.ready();
    const hits: CacheEvents['hit'][] = [];
    const misses: CacheEvents['miss'][] = [];
    for (const source of [cache, other]) {
      source.events.on('hit', (hit) => hits.push(hit));
      source.events.on('miss', (miss) => misses.push(miss));
    }
    await cache.getOrSet('a', async () => 'A'); // miss
    await cache.getOrSet('a', async () => 'A'); // memory hit
    await other.get('a'); // Redis hit
    await other.get('none'); // miss
    expect(hits.map((hit) => hit.tier)).toEqual(['memory', 'redis']);
    expect(misses.map((miss) => miss.key)).toEqual(['a', 'none']);
    for (const event of [...hits, ...misses]) {
      expect(Number.isFinite(event.durationMs)).toBe(true);
      expect(event.durationMs).toBeGreaterThanOrEqual(0);
    }
    // A Redis lookup is a round trip; a memory hit is none.
    expect((hits[1] as CacheEvents['hit']).durationMs).toBeGreaterThan(0);
    expect((misses[1] as CacheEvents['miss']).durationMs).toBeGreaterThan(0);
    await Promise.all([cache.close(), other.close()]);
  });
});
