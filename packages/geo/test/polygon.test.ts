import { GeoIndex } from '@redkit/geo';
import { describeTopologies } from '@redkit/testing/vitest';
import { beforeAll, expect, it } from 'vitest';
import { insidePolygon, randomPoints } from './helpers.js';

describeTopologies('polygon search', (t) => {
  const center = { lon: -73.97, lat: 40.78 };
  const points = randomPoints(11, 1500, center, 0.1);
  // A concave "C": the notch on the east side holds many points that its bounding box contains but the polygon does not.
  const polygon = [
    { lon: -74.05, lat: 40.7 },
    { lon: -73.89, lat: 40.7 },
    { lon: -73.89, lat: 40.74 },
    { lon: -73.99, lat: 40.75 },
    { lon: -73.99, lat: 40.81 },
    { lon: -73.89, lat: 40.82 },
    { lon: -73.89, lat: 40.86 },
    { lon: -74.05, lat: 40.86 },
  ];
  let index: GeoIndex;
  /** Positions as Redis stores them (within about 0.6 m of what was written). */
  const stored = new Map<string, { lon: number; lat: number }>();

  beforeAll(async () => {
    index = new GeoIndex({ redis: t.redis, namespace: t.namespace, name: 'nyc' });
    await Promise.all(points.map((point) => index.add(point.member, { lon: point.lon, lat: point.lat })));
    const positions = await Promise.all(points.map((point) => index.position(point.member)));
    for (const [i, point] of points.entries()) stored.set(point.member, positions[i] as { lon: number; lat: number });
  });

  it('returns exactly the members inside a concave polygon (reference: even-odd test on the stored positions)', async () => {
    const rows = await index.within({ polygon, limit: 10_000 });
    const expected = points.filter((point) => insidePolygon(stored.get(point.member) as never, polygon));
    expect(rows.map((row) => row.member).sort()).toEqual(expected.map((point) => point.member).sort());
    // The notch is real: its bounding box holds many more.
    const west = Math.min(...polygon.map((p) => p.lon));
    const east = Math.max(...polygon.map((p) => p.lon));
    const inBox = points.filter((p) => p.lon >= west && p.lon <= east && p.lat >= 40.7 && p.lat <= 40.86);
    expect(inBox.length - expected.length).toBeGreaterThan(100);
    expect(expected.length).toBeGreaterThan(100);
    // Sorted by distance from the bounding box's centre.
    const distances = rows.map((row) => row.distance);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
  });

  it('limit keeps the nearest of those inside, in the requested unit', async () => {
    const all = await index.within({ polygon, limit: 10_000, unit: 'km' });
    const some = await index.within({ polygon, limit: 25, unit: 'km' });
    expect(some).toEqual(all.slice(0, 25));
    const farthest = await index.within({ polygon, limit: 5, unit: 'km', sort: 'desc' });
    expect(farthest).toEqual(all.slice().reverse().slice(0, 5));
  });

  it('a polygon with no member inside returns nothing', async () => {
    const empty = [
      { lon: 10, lat: 10 },
      { lon: 10.1, lat: 10 },
      { lon: 10, lat: 10.1 },
    ];
    expect(await index.within({ polygon: empty })).toEqual([]);
  });
});
