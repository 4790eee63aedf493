import { GeoIndex, SnapshotExpiredError, UnknownMemberError } from '@redkit/geo';
import { describeTopologies } from '@redkit/testing/vitest';
import { beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { random, randomPoints, sleep } from './helpers.js';

describeTopologies('stable paging', (t) => {
  const center = { lon: 139.69, lat: 35.68 };
  const points = randomPoints(5, 2000, center, 0.15);
  const schema = z.object({ n: z.number() });
  let index: GeoIndex<typeof schema>;

  beforeAll(async () => {
    index = new GeoIndex({ redis: t.redis, namespace: t.namespace, name: 'tokyo', schema });
    await Promise.all(points.map((p, n) => index.add(p.member, { lon: p.lon, lat: p.lat }, { metadata: { n } })));
  });

  it('pages return every member within the radius exactly once, in distance order, while members move', async () => {
    const expected = (await index.near(center, { radius: 12, unit: 'km', limit: 10_000, metadata: false })).map(
      (row) => row.member,
    );
    expect(expected.length).toBeGreaterThan(500);
    const seen: string[] = [];
    const distances: number[] = [];
    const next = random(9);
    for await (const page of index.pages(center, { radius: 12, unit: 'km', pageSize: 37 })) {
      expect(page.length).toBeLessThanOrEqual(37);
      for (const row of page) {
        seen.push(row.member);
        distances.push(row.distance);
        expect(row.metadata?.n).toBeTypeOf('number');
      }
      // Members move between pages (to the other side of the area): the snapshot keeps its order.
      await Promise.all(
        Array.from({ length: 20 }, () => {
          const p = points[Math.floor(next() * points.length)] as (typeof points)[number];
          return index.upsert(p.member, { lon: 2 * center.lon - p.lon, lat: 2 * center.lat - p.lat });
        }),
      );
    }
    expect(seen).toHaveLength(new Set(seen).size);
    expect(seen.sort()).toEqual(expected.sort());
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
  });

  it('page by offset, descending, and members removed since the snapshot are left out', async () => {
    const snapshot = await index.snapshot(center, { radius: 3, unit: 'km', sort: 'desc' });
    expect(snapshot.unit).toBe('km');
    const first = await index.page(snapshot.id, { offset: 0, size: 10 });
    expect(first).toHaveLength(Math.min(10, snapshot.total));
    const all = await index.page(snapshot.id, { size: 10_000 });
    expect(all).toHaveLength(snapshot.total);
    expect(all.slice(0, 10)).toEqual(first);
    const distances = all.map((row) => row.distance);
    expect(distances).toEqual([...distances].sort((a, b) => b - a));
    await index.remove((all[0] as { member: string }).member);
    const after = await index.page(snapshot.id, { size: 10_000 });
    expect(after).toEqual(all.slice(1));
    expect(await index.page(snapshot.id, { offset: snapshot.total, size: 10 })).toEqual([]);
  });

  it('an empty result is a snapshot of nothing; an expired snapshot is an error', async () => {
    const empty = await index.snapshot({ lon: 0, lat: 0 }, { radius: 1, ttl: '1s' });
    expect(empty.total).toBe(0);
    expect(await index.page(empty.id)).toEqual([]);
    await sleep(1_300);
    await expect(index.page(empty.id)).rejects.toBeInstanceOf(SnapshotExpiredError);
    await expect(index.snapshot({ member: 'nobody' }, { radius: 1 })).rejects.toBeInstanceOf(UnknownMemberError);
  });
});
