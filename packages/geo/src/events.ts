/** Telemetry events of a `GeoIndex`. */
export type GeoEvents = {
  /** A search ran (`near`, `within`, a snapshot or one of its pages). */
  searched: { kind: 'near' | 'box' | 'polygon' | 'snapshot' | 'page'; results: number; durationMs: number };
  /** Stale members were evicted (by a write or `evictStale()`). */
  evicted: { count: number };
  /** Stored metadata no longer matches the schema; the read returned the member without it. */
  'metadata-invalid': { member: string; error: string };
};
