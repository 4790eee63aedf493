import { GeoIndex, UnknownMemberError } from '@redkit/geo';
import { describeTopologies } from '@redkit/testing/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { haversine, randomPoints } from './helpers.js';

/**
 * Tolerances. Redis stores a position as a 52-bit geohash: a point comes back
 * within about 0.6 m of what was written (1e-5° bounds that). Distances are
 * compared with a haversine computed here on the written coordinates, with
 * the earth radius Redis uses; they must agree within 0.5 %. Points whose
 * reference distance is within that tolerance of the radius (or box edge) are
 * borderline: the test does not require them either way.
 */
const coordinateTolerance = 1e-5;
const relativeTolerance = 0.005;

describeTopologies('search matches a haversine reference', (t) => {
  const center = { lon: 2.3522, lat: 48.8566 };
  const points = randomPoints(42, 400, center, 0.2);
  const written = new Map(points.map((point) => [point.member, point]));
  let index: GeoIndex;

  beforeAll(async () => {
    index = new GeoIndex({ redis: t.redis, namespace: t.namespace, name: 'paris' });
    await Promise.all(points.map((point) => index.add(point.member, { lon: point.lon, lat: point.lat })));
  });

  function checkRows(rows: { member: string; distance: number; lon: number; lat: number }[], scale: number) {
    for (const row of rows) {
      const point = written.get(row.member);
      expect(point, row.member).toBeDefined();
      expect(Math.abs(row.lon - (point?.lon ?? 0))).toBeLessThan(coordinateTolerance);
      expect(Math.abs(row.lat - (point?.lat ?? 0))).toBeLessThan(coordinateTolerance);
      const reference = haversine(center, point as { lon: number; lat: number }) / scale;
      expect(Math.abs(row.distance - reference)).toBeLessThanOrEqual(reference * relativeTolerance + 1 / scale);
    }
  }

  it.each([
    [2500, 'm', 1],
    [5, 'km', 1000],
    [4, 'mi', 1609.34],
    [30_000, 'ft', 0.3048],
  ] as const)('near within %s %s: exactly the points within the radius, nearest first', async (radius, unit, scale) => {
    const rows = await index.near(center, { radius, unit, limit: 10_000 });
    checkRows(rows, scale);
    const found = new Set(rows.map((row) => row.member));
    const limit = radius * scale;
    let inside = 0;
    for (const point of points) {
      const d = haversine(center, point);
      if (Math.abs(d - limit) <= limit * relativeTolerance + 1) continue; // borderline
      if (d < limit) inside++;
      expect(found.has(point.member), `${point.member} at ${d} m vs ${limit} m`).toBe(d < limit);
    }
    expect(inside).toBeGreaterThan(5);
    const distances = rows.map((row) => row.distance);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
  });

  it('limit keeps the nearest, sort desc the farthest', async () => {
    const all = await index.near(center, { radius: 10, unit: 'km', limit: 10_000 });
    const nearest = await index.near(center, { radius: 10, unit: 'km', limit: 7 });
    expect(nearest).toEqual(all.slice(0, 7));
    const farthest = await index.near(center, { radius: 10, unit: 'km', limit: 7, sort: 'desc' });
    expect(farthest).toEqual(all.slice().reverse().slice(0, 7));
  });

  it('near a member starts at its stored position (the member itself at distance 0)', async () => {
    const origin = points[0] as (typeof points)[number];
    const rows = await index.near({ member: origin.member }, { radius: 3, unit: 'km', limit: 10_000 });
    expect(rows[0]).toMatchObject({ member: origin.member, distance: 0 });
    for (const row of rows) {
      const reference = haversine(origin, written.get(row.member) as { lon: number; lat: number }) / 1000;
      expect(Math.abs(row.distance - reference)).toBeLessThanOrEqual(reference * relativeTolerance + 0.001);
    }
    await expect(index.near({ member: 'nobody' }, { radius: 1 })).rejects.toBeInstanceOf(UnknownMemberError);
  });

  it('within a box: the points whose latitude and east-west distances are within half the height and width', async () => {
    const width = 12_000;
    const height = 8_000;
    const rows = await index.within({ box: { center, width, height }, limit: 10_000 });
    checkRows(rows, 1);
    const found = new Set(rows.map((row) => row.member));
    for (const point of points) {
      const north = haversine(center, { lon: center.lon, lat: point.lat });
      // Redis measures the east-west distance along the point's own parallel.
      const east = haversine({ lon: center.lon, lat: point.lat }, point);
      const margin = (size: number) => size * relativeTolerance + 1;
      if (Math.abs(north - height / 2) <= margin(height / 2) || Math.abs(east - width / 2) <= margin(width / 2))
        continue;
      expect(found.has(point.member)).toBe(north < height / 2 && east < width / 2);
    }
    expect(found.size).toBeGreaterThan(5);
  });

  it('position and distance agree with what was written', async () => {
    const [a, b] = points as [(typeof points)[number], (typeof points)[number]];
    const position = await index.position(a.member);
    expect(Math.abs((position?.lon ?? 0) - a.lon)).toBeLessThan(coordinateTolerance);
    expect(Math.abs((position?.lat ?? 0) - a.lat)).toBeLessThan(coordinateTolerance);
    const reference = haversine(a, b);
    const metres = (await index.distance(a.member, b.member)) as number;
    expect(Math.abs(metres - reference)).toBeLessThanOrEqual(reference * relativeTolerance + 1);
    const miles = (await index.distance(a.member, b.member, 'mi')) as number;
    expect(Math.abs(miles * 1609.34 - reference)).toBeLessThanOrEqual(reference * relativeTolerance + 1);
    expect(await index.position('nobody')).toBeNull();
    expect(await index.distance(a.member, 'nobody')).toBeNull();
  });
});

describeTopologies('members and metadata', (t) => {
  const schema = z.object({ kind: z.enum(['cafe', 'museum']), stars: z.number().int() });

  describe('writes', () => {
    const index = () => new GeoIndex({ redis: t.redis, namespace: t.namespace, name: 'places', schema });

    it('add only adds, upsert moves and keeps metadata unless given, remove removes', async () => {
      const places = index();
      expect(
        await places.add('louvre', { lon: 2.3376, lat: 48.8606 }, { metadata: { kind: 'museum', stars: 5 } }),
      ).toBe(true);
      expect(await places.add('louvre', { lon: 0, lat: 0 }, { metadata: { kind: 'cafe', stars: 1 } })).toBe(false);
      expect(await places.get('louvre')).toMatchObject({ metadata: { kind: 'museum', stars: 5 } });
      expect((await places.position('louvre'))?.lon).toBeCloseTo(2.3376, 4);

      expect(await places.upsert('louvre', { lon: 2.34, lat: 48.86 })).toBe(false);
      const moved = await places.get('louvre');
      expect(moved?.lon).toBeCloseTo(2.34, 4);
      expect(moved?.metadata).toEqual({ kind: 'museum', stars: 5 });
      expect(moved?.lastSeen).toBeUndefined();

      expect(
        await places.upsert('flore', { lon: 2.3327, lat: 48.8541 }, { metadata: { kind: 'cafe', stars: 4 } }),
      ).toBe(true);
      const rows = await places.near({ lon: 2.3376, lat: 48.8606 }, { radius: 2, unit: 'km' });
      expect(rows.map((row) => [row.member, row.metadata])).toEqual([
        ['louvre', { kind: 'museum', stars: 5 }],
        ['flore', { kind: 'cafe', stars: 4 }],
      ]);
      const bare = await places.near({ lon: 2.3376, lat: 48.8606 }, { radius: 2, unit: 'km', metadata: false });
      expect(bare.every((row) => row.metadata === undefined)).toBe(true);

      expect(await places.remove('louvre')).toBe(true);
      expect(await places.remove('louvre')).toBe(false);
      expect(await places.get('louvre')).toBeNull();
      // Re-added without metadata: the old metadata went with the removal.
      await places.add('louvre', { lon: 2.3376, lat: 48.8606 });
      expect((await places.get('louvre'))?.metadata).toBeUndefined();
    });

    it('clear deletes every key of the index', async () => {
      const places = index();
      await places.upsert('x', { lon: 1, lat: 1 }, { metadata: { kind: 'cafe', stars: 1 } });
      await places.clear();
      expect(await places.near({ lon: 1, lat: 1 }, { radius: 1, unit: 'km' })).toEqual([]);
    });
  });
});

describeTopologies('concurrent writers', (t) => {
  it('many clients adding the same members at once: each member is added exactly once', async () => {
    const clients = Array.from({ length: 6 }, () => t.client());
    const members = randomPoints(7, 150, { lon: 13.4, lat: 52.5 }, 0.1);
    const added = await Promise.all(
      clients.map((redis) => {
        const index = new GeoIndex({ redis, namespace: t.namespace, name: 'race' });
        return Promise.all(members.map((point) => index.add(point.member, { lon: point.lon, lat: point.lat })));
      }),
    );
    expect(added.flat().filter(Boolean)).toHaveLength(members.length);
    const index = new GeoIndex({ redis: t.redis, namespace: t.namespace, name: 'race' });
    const rows = await index.near({ lon: 13.4, lat: 52.5 }, { radius: 100, unit: 'km', limit: 10_000 });
    expect(rows).toHaveLength(members.length);
  });
});
