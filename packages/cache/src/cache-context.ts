import {
  type CallOptions,
  callOptions,
  driverFor,
  InvalidOptionsError,
  parseOptions,
  type RedisDriver,
  RedisUnavailableError,
  type ServerClock,
  serverClock,
  TelemetryEmitter,
} from '@redkit/core';
import { CacheKeys } from './cache-keys.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { CacheEvents } from './events.js';
import { InvalidationBus } from './invalidation-bus.js';
import { type MemoryEntry, MemoryTier } from './memory-tier.js';
import {
  copiesOf,
  type GetOrSetOptions,
  type getOrSetOptionsSchema,
  memoryOf,
  type ResolvedCacheOptions,
  type writeOptionsSchema,
} from './options.js';
import { ReplicaKeys, VersionFloors } from './replicas.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import type { WriteBehindLog } from './write-behind.js';

/** One call's settings, after the cache's defaults. */
export interface CallSettings {
  readonly ttl: number;
  readonly grace: number;
  readonly tags: readonly string[] | undefined;
  readonly softTimeout: number | undefined;
  readonly hardTimeout: number;
}

/**
 * What every part of a cache shares: its resolved options, key builder,
 * Redis drivers and clock, the memory tier, copies and version floors, the
 * invalidation bus, the circuit breaker and the telemetry. The read path,
 * load coordinator and write path each take this one object, so none of
 * them reaches into another.
 */
export class CacheContext {
  readonly options: ResolvedCacheOptions;
  readonly keys: CacheKeys;
  readonly driver: RedisDriver;
  /** Where GET and MGET go: `readRedis`, or `redis`. */
  readonly readDriver: RedisDriver;
  readonly clock: ServerClock;
  /** Per-call options (the cache's `timeout`), or undefined for the driver's own. */
  readonly call: CallOptions | undefined;
  readonly serializer: Serializer;
  readonly memory: MemoryTier | undefined;
  /** Copies of each key when `replicas` > 0. */
  readonly replicaKeys: ReplicaKeys | undefined;
  /** Newest version seen per key, when reads may come from copies or replicas that lag. */
  readonly floors: VersionFloors | undefined;
  readonly bus: InvalidationBus;
  readonly breaker: CircuitBreaker;
  readonly events: TelemetryEmitter<CacheEvents>;
  readonly defaults: CallSettings;
  /** The memory tier's own ttl, if it has one. */
  private readonly memoryTtl: number | undefined;
  closed = false;

  constructor(options: ResolvedCacheOptions, writeLog: WriteBehindLog | undefined) {
    this.options = options;
    const { schema, schemaVersion, hotKeys, readRedis } = options;
    const memory = memoryOf(options);
    const copies = copiesOf(options).count;
    const version = schemaVersion !== undefined ? `v${schemaVersion}` : schema ? 'v1' : undefined;
    // Write-behind keeps each key under its partition stream's hash tag (see write-behind.ts).
    this.keys = new CacheKeys(options.namespace, version, writeLog?.streamOf);
    this.driver = driverFor(options.redis);
    this.clock = serverClock(this.driver);
    void this.clock.sync();
    this.call = callOptions(options.timeout);
    this.serializer = options.serializer ?? jsonSerializer;
    this.events = new TelemetryEmitter<CacheEvents>('cache');
    const maxPinned = hotKeys === false || hotKeys.pin === false ? 0 : hotKeys.pin.maxEntries;
    this.memory =
      memory || maxPinned > 0
        ? new MemoryTier(
            memory ? { maxEntries: memory.maxEntries, maxBytes: memory.maxBytes, ttl: memory.ttl } : undefined,
            maxPinned,
          )
        : undefined;
    this.memoryTtl = memory ? memory.ttl : undefined;
    this.readDriver = readRedis ? driverFor(readRedis) : this.driver;
    this.replicaKeys = copies > 0 ? new ReplicaKeys(this.keys.namespace, version, copies) : undefined;
    this.floors = this.replicaKeys || readRedis ? new VersionFloors() : undefined;
    this.bus = new InvalidationBus(options.redis, this.driver.timeoutMs, this.keys.channel, {
      key: (redisKey, written) => {
        const key = this.memory || this.floors ? this.keys.keyOf(redisKey) : undefined;
        if (key === undefined) return;
        this.memory?.invalidate(key, written);
        // Announced before the copies are written: a copy behind it is not served from now on.
        this.floors?.raise(key, written);
      },
      tag: (tag, written) => this.memory?.invalidateTag(tag, written),
      clear: () => this.memory?.clear(),
      reset: () => this.memory?.clear(),
    });
    // The memory tier may only fill once invalidations are guaranteed to arrive;
    // with copies or replicas, invalidations raise the version floors early.
    if (this.memory || this.floors) void this.bus.start();
    this.breaker = new CircuitBreaker(options.breaker.failures, options.breaker.cooldown, (state) =>
      this.events.emit(state === 'open' ? 'breaker-open' : 'breaker-close', {}),
    );
    this.defaults = {
      ttl: options.ttl,
      grace: options.grace,
      tags: undefined,
      softTimeout: options.softTimeout,
      hardTimeout: options.hardTimeout,
    };
  }

  /** The shortest life of a delete's tombstone (see delete-entry.lua: it outlives the load lease too). */
  get tombstoneMs(): number {
    return this.options.hardTimeout + 1_000;
  }

  /** The invalidation channels a write of `entryKey` is announced on. */
  channelsFor(entryKey: string): { channel: string; shardChannel: string } {
    return { channel: this.keys.channel, shardChannel: this.bus.shardChannelFor(entryKey) };
  }

  /** Runs a Redis call through the breaker; failures count and are rethrown as RedisUnavailableError. */
  async redis<T>(run: () => Promise<T>): Promise<T> {
    if (!this.breaker.allows()) throw new RedisUnavailableError('the cache circuit breaker is open');
    try {
      const result = await run();
      this.breaker.success();
      return result;
    } catch (error) {
      if (error instanceof RedisUnavailableError) {
        this.breaker.failure();
        this.events.emit('redis-error', { error });
      }
      throw error;
    }
  }

  /** Keeps an entry in the memory tier, once invalidations are sure to arrive. */
  remember(key: string, entry: MemoryEntry, size: number, now: number): void {
    if (!this.memory || !this.bus.ready || this.closed) return;
    const ttl = this.memoryTtl;
    const lifetime = entry.staleUntil - now;
    this.memory.set(key, entry, size, ttl !== undefined ? Math.min(ttl, lifetime) : lifetime);
  }

  /** One call's settings: the defaults, or its options parsed with `schema` (nothing is sent when they are bad). */
  settings(
    options: unknown,
    schema: typeof writeOptionsSchema | typeof getOrSetOptionsSchema,
    context: string,
  ): CallSettings {
    // The common call has no options: skip parsing on the hot path.
    if (options === undefined) return this.defaults;
    const parsed = parseOptions(schema, options, context) as GetOrSetOptions & {
      ttl?: number;
      grace?: number;
      softTimeout?: number;
      hardTimeout?: number;
    };
    const settings = {
      ttl: parsed.ttl ?? this.defaults.ttl,
      grace: parsed.grace ?? this.defaults.grace,
      tags: parsed.tags,
      softTimeout: parsed.softTimeout ?? this.defaults.softTimeout,
      hardTimeout: parsed.hardTimeout ?? this.defaults.hardTimeout,
    };
    // A tag's version must outlive every entry that records it, or an invalidated entry would come back.
    if (settings.tags && settings.tags.length > 0 && settings.ttl + settings.grace > this.options.tagTtl) {
      throw new InvalidOptionsError(
        [{ path: 'ttl', message: 'ttl + grace of a tagged entry must not exceed tagTtl' }],
        {
          context,
        },
      );
    }
    return settings;
  }
}
