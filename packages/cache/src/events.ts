/** Where a hit came from. */
export type CacheTier = 'memory' | 'redis';

/** Telemetry events of a `Cache`. */
export type CacheEvents = {
  /**
   * A fresh value was found. `durationMs`: the lookup's latency (monotonic clock,
   * from the call to the answer), which the OpenTelemetry bridge records as a histogram.
   */
  hit: { key: string; tier: CacheTier; durationMs: number };
  /**
   * No usable value: the loader runs (or `get` returns undefined). `durationMs`:
   * the lookup's latency up to the miss (not the load; that is `refresh`'s).
   */
  miss: { key: string; durationMs: number };
  /** A stale value (within grace) was returned: while revalidating, after a loader error, or after the soft timeout. */
  'stale-served': { key: string; reason: 'revalidating' | 'loader-error' | 'soft-timeout' | 'lock-wait' };
  /** The loader ran and its value was stored. */
  refresh: { key: string; durationMs: number; background: boolean };
  /** A caller did not run the loader because another call did: in this process or in another one (the lease). */
  'stampede-collapsed': { key: string; via: 'in-process' | 'lease' };
  /** The loader failed (its error is rethrown unless a stale value was served). */
  'loader-error': { key: string; error: unknown };
  /** A value read from Redis failed the schema or could not be decoded: treated as a miss. */
  'invalid-value': { key: string; error: string };
  /**
   * The loader's value cannot be serialized (e.g. a BigInt with the JSON
   * serializer): it was returned but not stored, so the loader runs on every
   * call. A process warning says so once per cache.
   */
  unserializable: { key: string; error: string };
  /** Redis failed; the cache fell back to the loader. */
  'redis-error': { error: unknown };
  /** A key became hot (option `hotKeys`): its estimated reads in the detector's window reached the threshold. `pinned`: its value is kept in memory from now on. */
  'hot-key': { key: string; estimate: number; pinned: boolean };
  /** A hot key cooled down (or a hotter key took its place); it is no longer pinned. */
  'hot-key-cooled': { key: string; estimate: number };
  /** The circuit breaker opened (Redis is skipped) or closed again. */
  'breaker-open': Record<string, never>;
  'breaker-close': Record<string, never>;
};
