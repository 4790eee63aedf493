/**
 * What a `GeoIndex` read returns (search results, a member, a snapshot
 * handle) and the decoding of the search scripts' flat reply rows into
 * results: the one place that knows the `member, distance, lon, lat,
 * metadata` row layout on the client side.
 */
import type { Unit } from './options.js';

/** One search result: a member, its distance from the search's origin, and its stored position. */
export interface GeoResult<Metadata = never> {
  readonly member: string;
  /** Distance from the origin (for a polygon: from its bounding box's centre), in the search's unit. */
  readonly distance: number;
  /** The stored longitude (Redis keeps positions as 52-bit geohashes: within about 0.6 m of what was written). */
  readonly lon: number;
  readonly lat: number;
  /** The member's metadata, when the index has a schema and metadata is stored. */
  readonly metadata?: Metadata;
}

/** A member as `get` returns it. */
export interface GeoMember<Metadata = never> {
  readonly member: string;
  readonly lon: number;
  readonly lat: number;
  readonly metadata?: Metadata;
  /** When the member was last written (ms since the epoch, Redis server clock); only with a `ttl`. */
  readonly lastSeen?: number;
}

/** A stored search result, paged with `index.page(snapshot.id, …)` until it expires. */
export interface GeoSnapshot {
  /** Pass to `page()`; safe to hand to a client (it names nothing but the snapshot). */
  readonly id: string;
  /** Live members in the result when it was stored. */
  readonly total: number;
  /** Unit of the distances its pages return. */
  readonly unit: Unit;
  /** When the snapshot expires, in ms since the epoch (client clock, approximate). */
  readonly expiresAt: number;
}

/**
 * Results from rows of `member, distance, lon, lat, metadata` starting at
 * `start`. With `parseMetadata` (a search that asked for metadata), a row's
 * stored metadata is parsed, and left out when it is not valid.
 */
export function decodeResultRows<Metadata>(
  reply: (string | number | null)[],
  start: number,
  parseMetadata: ((member: string, raw: string) => Metadata | undefined) | undefined,
): GeoResult<Metadata>[] {
  const results: GeoResult<Metadata>[] = [];
  for (let index = start; index + 4 < reply.length; index += 5) {
    const member = reply[index] as string;
    const raw = reply[index + 4];
    if (parseMetadata && raw !== null && raw !== undefined) {
      const metadata = parseMetadata(member, raw as string);
      if (metadata !== undefined) {
        results.push({
          member,
          distance: Number(reply[index + 1]),
          lon: Number(reply[index + 2]),
          lat: Number(reply[index + 3]),
          metadata,
        });
        continue;
      }
    }
    results.push({
      member,
      distance: Number(reply[index + 1]),
      lon: Number(reply[index + 2]),
      lat: Number(reply[index + 3]),
    });
  }
  return results;
}
