import { GeoIndex } from '@redkit/geo';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { sleep } from './helpers.js';

/**
 * Freshness is judged by the Redis server's clock (TIME in each script), so
 * these tests wait in real time: a 1.5 s ttl, with writes 0.9 s apart. A
 * member refreshed 0.9 s before the check has 0.6 s of margin; one last
 * written 1.8 s before is 0.3 s past its ttl.
 */
describeTopologies('moving objects', (t) => {
  const at = { lon: -0.1276, lat: 51.5072 };
  const near = (dx: number) => ({ lon: at.lon + dx, lat: at.lat });

  it('members not updated within the ttl vanish from every read; fresh ones stay', async () => {
    const schema = z.object({ plate: z.string() });
    const drivers = new GeoIndex({
      redis: t.redis,
      namespace: t.namespace,
      name: 'drivers',
      ttl: 1_500,
      evictBatch: 0,
      schema,
    });
    await drivers.upsert('a', near(0.001), { metadata: { plate: 'A' } });
    await drivers.upsert('b', near(0.002), { metadata: { plate: 'B' } });
    await drivers.upsert('c', near(0.003), { metadata: { plate: 'C' } });
    expect((await drivers.near(at, { radius: 1, unit: 'km' })).map((r) => r.member)).toEqual(['a', 'b', 'c']);
    const seen = (await drivers.get('a'))?.lastSeen as number;
    expect(Math.abs(seen - Date.now())).toBeLessThan(60_000);

    await sleep(900);
    await drivers.upsert('b', near(0.0025)); // b moves: fresh again
    await sleep(900);

    expect((await drivers.near(at, { radius: 1, unit: 'km' })).map((r) => r.member)).toEqual(['b']);
    expect((await drivers.near({ member: 'b' }, { radius: 1, unit: 'km' })).map((r) => r.member)).toEqual(['b']);
    const box = { center: at, width: 2, height: 2 };
    expect((await drivers.within({ box, unit: 'km' })).map((r) => r.member)).toEqual(['b']);
    const polygon = [near(-0.01), near(0.01), { lon: at.lon, lat: at.lat + 0.01 }];
    expect((await drivers.within({ polygon })).map((r) => r.member)).toEqual(['b']);
    expect(await drivers.position('a')).toBeNull();
    expect(await drivers.get('c')).toBeNull();
    expect(await drivers.distance('a', 'b')).toBeNull();
    expect(await drivers.get('b')).toMatchObject({ member: 'b', metadata: { plate: 'B' } });
    await expect(drivers.near({ member: 'a' }, { radius: 1 })).rejects.toThrow('is not in the index');
    const snapshot = await drivers.snapshot(at, { radius: 1, unit: 'km' });
    expect(snapshot.total).toBe(1);
    expect((await drivers.page(snapshot.id)).map((r) => r.member)).toEqual(['b']);

    // Stale members still take memory until evicted; eviction removes them with their metadata.
    const geoKey = `${t.namespace}:{drivers}:points`;
    expect(await t.redis.zcard(geoKey)).toBe(3);
    expect(await drivers.evictStale()).toBe(2);
    expect(await t.redis.zcard(geoKey)).toBe(1);
    expect(await t.redis.hkeys(`${t.namespace}:{drivers}:meta`)).toEqual(['b']);
    expect(await t.redis.zrange(`${t.namespace}:{drivers}:seen`, '0', '-1')).toEqual(['b']);
    // A stale member counts as absent: adding it again creates it.
    expect(await drivers.add('b', near(0.002))).toBe(false);
  });

  it('writes evict stale members, and a stale member comes back as new (without its old metadata)', async () => {
    const schema = z.object({ plate: z.string() });
    const drivers = new GeoIndex({ redis: t.redis, namespace: t.namespace, name: 'fleet', ttl: '1s', schema });
    await Promise.all(['x', 'y', 'z'].map((m) => drivers.upsert(m, near(0.001), { metadata: { plate: m } })));
    await sleep(1_300);
    expect(await drivers.add('x', near(0.002))).toBe(true);
    expect(await drivers.get('x')).toMatchObject({ member: 'x' });
    expect((await drivers.get('x'))?.metadata).toBeUndefined();
    expect(await t.redis.zrange(`${t.namespace}:{fleet}:points`, '0', '-1')).toEqual(['x']);
    expect(await drivers.remove('y')).toBe(false);
  });

  it('limit counts fresh members only: stale ones nearer do not crowd them out', async () => {
    const drivers = new GeoIndex({ redis: t.redis, namespace: t.namespace, name: 'crowd', ttl: 1_000, evictBatch: 0 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => drivers.upsert(`old${i}`, near(0.0001 * (i + 1)))));
    await sleep(1_300);
    await Promise.all(Array.from({ length: 5 }, (_, i) => drivers.upsert(`new${i}`, near(0.01 + 0.001 * i))));
    const rows = await drivers.near(at, { radius: 5, unit: 'km', limit: 5 });
    expect(rows.map((r) => r.member)).toEqual(['new0', 'new1', 'new2', 'new3', 'new4']);
  });
});
