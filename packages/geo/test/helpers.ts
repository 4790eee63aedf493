export { sleep } from '@redkit/testing';

import { keysOf, seededRandom as random } from '@redkit/testing';

export { keysOf, random };

/** The earth radius Redis uses (geohash_helper.c), so the reference measures as it does. */
const earthRadius = 6372797.560856;
const radians = Math.PI / 180;

/** Great-circle distance in metres (haversine), the reference for Redis's distances. */
export function haversine(a: { lon: number; lat: number }, b: { lon: number; lat: number }): number {
  const dLat = (b.lat - a.lat) * radians;
  const dLon = (b.lon - a.lon) * radians;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * radians) * Math.cos(b.lat * radians) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadius * Math.asin(Math.sqrt(h));
}

/** Reference point-in-polygon: counts crossings of a ray to the east (even-odd rule). */
export function insidePolygon(
  point: { lon: number; lat: number },
  polygon: readonly { lon: number; lat: number }[],
): boolean {
  let crossings = 0;
  for (let i = 0; i < polygon.length; i++) {
    const a = polygon[i] as { lon: number; lat: number };
    const b = polygon[(i + 1) % polygon.length] as { lon: number; lat: number };
    if (a.lat > point.lat !== b.lat > point.lat) {
      const lonAtLat = a.lon + ((point.lat - a.lat) / (b.lat - a.lat)) * (b.lon - a.lon);
      if (point.lon < lonAtLat) crossings++;
    }
  }
  return crossings % 2 === 1;
}

/** `count` random points within `spread` degrees of a centre. */
export function randomPoints(seed: number, count: number, center: { lon: number; lat: number }, spread: number) {
  const next = random(seed);
  return Array.from({ length: count }, (_, index) => ({
    member: `p${index}`,
    lon: center.lon + (next() * 2 - 1) * spread,
    lat: center.lat + (next() * 2 - 1) * spread,
  }));
}
