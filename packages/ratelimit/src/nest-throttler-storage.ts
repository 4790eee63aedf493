import {
  type CallOptions,
  defineScript,
  driverFor,
  InvalidOptionsError,
  Keyspace,
  namespaceSchema,
  parseOptions,
  type RedisDriver,
  warnIfEvictable,
} from '@redkit/core';
import { z } from 'zod';
import { adapterStoreShape } from './adapter-store-options.js';
import incrementThrottlerSource from './scripts/increment-throttler.lua';

const incrementThrottler = defineScript<[number, number, number, number]>(
  'increment-throttler',
  incrementThrottlerSource,
);

/**
 * What a `ThrottlerStorage` answers for one hit (the shape of
 * @nestjs/throttler's `ThrottlerStorageRecord`, declared here so that this
 * entry point does not need @nestjs/throttler's types).
 */
export interface ThrottlerStorageRecord {
  /** Hits counted in the last `ttl` (plus the refused one when no block applies). */
  totalHits: number;
  /** Seconds until the key's window ends (`X-RateLimit-Reset`). */
  timeToExpire: number;
  /** Whether the request is refused. */
  isBlocked: boolean;
  /** Seconds until the block ends (`Retry-After`); 0 when not blocked. */
  timeToBlockExpire: number;
}

const storageOptionsSchema = z
  .object({
    ...adapterStoreShape,
    /** Key prefix: keys are `<namespace>:{<throttler key>}:…`. @default "throttler" */
    namespace: namespaceSchema.default('throttler'),
  })
  .strict();

/** Options of {@link RedkitThrottlerStorage}. */
export type RedkitThrottlerStorageOptions = z.input<typeof storageOptionsSchema>;

function invalid(field: string, message: string): InvalidOptionsError {
  return new InvalidOptionsError([{ path: field, message }], { context: 'RedkitThrottlerStorage.increment()' });
}

/**
 * A `ThrottlerStorage` for @nestjs/throttler 6 on Redis, standalone or
 * Cluster: `ThrottlerModule.forRoot({ throttlers, storage: new RedkitThrottlerStorage({ redis }) })`.
 *
 * It answers exactly as @nestjs/throttler's in-memory storage does, so the
 * guard behaves the same with several app instances sharing one limit:
 * each hit counts for `ttl` ms (a sliding log), `timeToExpire` is the seconds
 * left of a window that starts with the first hit and restarts once over; the
 * hit that takes the count over `limit` blocks the key for `blockDuration` ms,
 * hits during the block are refused and not counted, and the first hit after
 * the block starts the count again at 1. With `blockDuration <= 0` a hit over
 * the limit is refused without a block. Each call is one Lua script on the
 * Redis clock, so concurrent hits from many processes are counted exactly.
 *
 * Two keys per tracker key (a hash and, per throttler name, a sorted set of
 * up to `limit + 1` hit expiry times), sharing one hash tag, expiring when
 * the window, the block and the last hit are over.
 *
 * A Redis failure rejects `increment()` with `RedisUnavailableError`; the
 * guard lets it through to Nest's exception layer (a 500), as it would any
 * storage error.
 *
 * @example
 * ```ts
 * ThrottlerModule.forRoot({
 *   throttlers: [{ ttl: 60_000, limit: 100 }],
 *   storage: new RedkitThrottlerStorage({ redis }),
 * })
 * ```
 */
export class RedkitThrottlerStorage {
  private readonly driver: RedisDriver;
  private readonly keyspace: Keyspace;
  private readonly callOptions: CallOptions | undefined;

  constructor(options: RedkitThrottlerStorageOptions) {
    const parsed = parseOptions(storageOptionsSchema, options, 'RedkitThrottlerStorage');
    this.driver = driverFor(parsed.redis);
    this.keyspace = new Keyspace(parsed.namespace);
    this.callOptions = parsed.timeout === undefined ? undefined : { timeoutMs: parsed.timeout };
    // Evicted hit logs would silently raise every limit.
    void warnIfEvictable(this.driver, 'throttler storage');
  }

  /**
   * Counts one hit of `key` under the throttler `throttlerName` (the
   * `ThrottlerStorage` contract). Throws `InvalidOptionsError` naming the
   * argument for a bad one, before Redis is asked.
   *
   * @param key tracker key, as the guard's `generateKey` made it
   * @param ttl ms a hit counts for
   * @param limit hits admitted within `ttl`
   * @param blockDuration ms the key is blocked after going over the limit (≤ 0: no block)
   * @param throttlerName name of the throttler (`default` unless named)
   * @example
   * ```ts
   * const { totalHits, isBlocked } = await storage.increment('k', 60_000, 10, 60_000, 'default')
   * ```
   */
  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    if (typeof key !== 'string' || key.length === 0) throw invalid('key', 'must be a non-empty string');
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0)
      throw invalid('ttl', 'must be a positive number of ms');
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit < 0) {
      throw invalid('limit', 'must be a number ≥ 0');
    }
    if (typeof blockDuration !== 'number' || !Number.isFinite(blockDuration)) {
      throw invalid('blockDuration', 'must be a finite number of ms');
    }
    if (typeof throttlerName !== 'string' || throttlerName.length === 0) {
      throw invalid('throttlerName', 'must be a non-empty string');
    }
    const keys = [this.keyspace.key(key, 'r'), this.keyspace.key(key, 'h', throttlerName)];
    const [totalHits, timeToExpire, blocked, timeToBlockExpire] = await this.driver.script(
      incrementThrottler,
      keys,
      [ttl, limit, blockDuration],
      this.callOptions,
    );
    return { totalHits, timeToExpire, isBlocked: blocked === 1, timeToBlockExpire };
  }
}
