import type { GeoPoint } from './options.js';

/** The earth radius Redis measures with (geohash_helper.c), in metres. */
export const earthRadius = 6372797.560856;

const radians = Math.PI / 180;

/** A GEOSEARCH box that contains a polygon: its centre, and width and height in metres. */
export interface CandidateBox {
  readonly lon: number;
  readonly lat: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The smallest GEOSEARCH BYBOX box (as Redis tests membership) that holds
 * every point of the polygon's bounding box. Redis keeps a point when its
 * latitude distance to the centre is at most height / 2 and the haversine
 * distance along the point's own parallel is at most width / 2; that parallel
 * distance is largest on the latitude nearest the equator, so the width is
 * taken there. A small margin covers rounding; the exact polygon test then
 * drops the extra candidates.
 */
export function candidateBox(polygon: readonly GeoPoint[]): CandidateBox {
  let west = Infinity;
  let east = -Infinity;
  let south = Infinity;
  let north = -Infinity;
  for (const { lon, lat } of polygon) {
    if (lon < west) west = lon;
    if (lon > east) east = lon;
    if (lat < south) south = lat;
    if (lat > north) north = lat;
  }
  const lon = (west + east) / 2;
  const lat = (south + north) / 2;
  const widest = south <= 0 && north >= 0 ? 0 : Math.min(Math.abs(south), Math.abs(north));
  const halfWidth =
    2 *
    earthRadius *
    Math.asin(Math.min(1, Math.cos(widest * radians) * Math.sin((((east - west) / 2) * radians) / 2)));
  const halfHeight = earthRadius * ((north - south) / 2) * radians;
  return { lon, lat, width: 2 * (halfWidth * 1.001 + 1), height: 2 * (halfHeight * 1.001 + 1) };
}
