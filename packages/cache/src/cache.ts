import { randomBytes } from 'node:crypto';
import {
  type CallOptions,
  driverFor,
  groupBySlot,
  InvalidOptionsError,
  parseOptions,
  type RedisDriver,
  RedisUnavailableError,
  type ServerClock,
  scanAll,
  serverClock,
  TelemetryEmitter,
} from '@redkit/core';
import { HotKeyDetector } from '@redkit/hotkeys';
import { CacheKeys } from './cache-keys.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { decodeEntry, type Entry, encodeTags, writtenAt } from './entry.js';
import { LoaderTimeoutError, UnserializableValueError, WriteThroughError } from './errors.js';
import type { CacheEvents } from './events.js';
import { InvalidationBus } from './invalidation-bus.js';
import { type MemoryEntry, MemoryTier } from './memory-tier.js';
import {
  type CacheOptions,
  cacheOptionsSchema,
  type GetOrSetOptions,
  getOrSetOptionsSchema,
  keySchema,
  type OutputOf,
  type ResolvedCacheOptions,
  type StandardSchema,
  type WriteOptions,
  writeOptionsSchema,
} from './options.js';
import { ReplicaKeys, setReplica, VersionFloors, versionOf } from './replicas.js';
import { beginLoad, bumpTag, deleteEntry, releaseLease, setEntry } from './scripts.js';
import { decodePayload, type EncodedPayload, encodePayload, jsonSerializer, type Serializer } from './serializer.js';
import { createWriteBehindLog, type WriteBehindLog } from './write-behind.js';
import { WriteBehindFlusher } from './write-behind-flusher.js';
import { type FlusherOptions, flusherOptionsSchema } from './write-behind-options.js';

/** What a loader gets: the key, a signal aborted at the hard timeout, and the stale value if there is one. */
export interface LoaderContext<Value> {
  readonly key: string;
  readonly signal: AbortSignal;
  /** The stale value being refreshed (within grace), if any. */
  readonly stale: Value | undefined;
}

/** Loads a value from the source of truth; `undefined` means "not found" (cached for `negativeTtl`). */
export type Loader<Value> = (context: LoaderContext<Value>) => Value | undefined | Promise<Value | undefined>;

/** Loads several keys at once; returns a Map by key (absent keys are "not found"). */
export type ManyLoader<Value> = (
  keys: readonly string[],
  context: { readonly signal: AbortSignal },
) => Map<string, Value> | Promise<Map<string, Value>>;

/** The value type of a cache: the schema's output, or `unknown` without one. */
export type ValueOf<Schema> = Schema extends StandardSchema ? OutputOf<Schema> : unknown;

/** A value found in memory or Redis, with its entry's times. */
interface Found<Value> extends MemoryEntry {
  readonly value: Value;
}

/** A lookup: what was found, and whether Redis failed (so the call skips it from then on). */
interface Lookup<Value> {
  readonly found: Found<Value> | undefined;
  readonly redisFailed: boolean;
}

/** Resolved per-call settings. */
interface CallSettings {
  readonly ttl: number;
  readonly grace: number;
  readonly tags: readonly string[] | undefined;
  readonly softTimeout: number | undefined;
  readonly hardTimeout: number;
}

const noLookup: Lookup<never> = { found: undefined, redisFailed: true };

/** One load of one key: what to load and how, and what is known already. */
interface LoadRequest<Value> {
  readonly key: string;
  readonly redisKey: string;
  readonly loader: Loader<Value>;
  readonly settings: CallSettings;
  /** A stale value (within grace) to serve on errors, lock waits and soft timeouts. */
  readonly stale: Found<Value> | undefined;
  /** A refresh-ahead or revalidation: nobody waits for its result. */
  readonly background: boolean;
  /** Redis already failed in this call: load without it. */
  readonly skipRedis: boolean;
}

/**
 * Lease tokens only need to be unique, not secret: a random process prefix and
 * a counter (crypto.randomBytes per load cost about 10 µs on a miss).
 */
const tokenPrefix = randomBytes(9).toString('base64url');
let tokenCounter = 0;
const newToken = () => `${tokenPrefix}${(tokenCounter++).toString(36)}`;

/** A hot key as `Cache.hotKeys()` reports it. */
export interface CacheHotKey {
  readonly key: string;
  /** Estimated reads in the detector's last `window` (never below the true count). */
  readonly estimate: number;
  /** Whether its value is kept in memory (pinned) while it stays hot. */
  readonly pinned: boolean;
}

/** A load in flight in this process. */
interface Flight {
  readonly promise: Promise<unknown>;
  readonly background: boolean;
}

/**
 * A cache in front of a slow source, on Redis (standalone or Cluster), with
 * an optional in-memory tier.
 *
 * - **Cache-aside**: `getOrSet(key, loader)`, `get`, `set`, `delete`, `has`,
 *   `getMany`, `getOrSetMany`, `wrap`.
 * - **Write-through**: `writeThrough(key, value, save)` saves to the source,
 *   then writes the cache with a version newer than any load in flight.
 * - **Refresh-ahead**: `refreshAhead: { fraction }` or XFetch `{ beta }`.
 * - **Stampede protection**: concurrent callers in one process share one
 *   loader call; across processes one lease per key (SET NX PX in the key's
 *   slot) lets one process load while the others are woken over pub/sub
 *   (with a bounded wait) or served the stale value.
 * - **Stale serving** within `grace`: stale-while-revalidate, stale-if-error
 *   with a backoff, and a soft loader timeout; a hard timeout aborts loads.
 * - **Redis trouble**: a bounded timeout per call and a circuit breaker; a
 *   `getOrSet` then falls back to the loader, never hangs.
 * - **L1**: `l1: { maxEntries, maxBytes }` keeps values in memory, kept
 *   coherent by versioned invalidations over pub/sub.
 * - **Hot keys**: `hotKeys` detects them and pins them in memory;
 *   `replicas: N` spreads a key's reads over N copies on every master;
 *   `readRedis` serves reads from cluster replicas. Version floors keep an
 *   instance from ever reading back an older value.
 * - **Tags** (`set(..., { tags })`, `invalidateTags`), `clear()`, negative
 *   caching, TTL jitter, pluggable serializer, gzip, schema validation.
 *
 * @example
 * ```ts
 * const users = new Cache({ redis, namespace: 'users', ttl: '5m', grace: '1h', l1: { maxEntries: 10_000 } })
 * const user = await users.getOrSet(`user:${id}`, () => db.users.find(id), { tags: [`team:${teamId}`] })
 * await users.invalidateTags([`team:${teamId}`])
 * ```
 */
export class Cache<Schema extends StandardSchema | undefined = undefined> {
  /** Typed telemetry: hit, miss, stale-served, refresh, stampede-collapsed, breaker-open … */
  readonly events: TelemetryEmitter<CacheEvents>;
  /** The key namespace. */
  readonly namespace: string;
  private readonly options: ResolvedCacheOptions;
  private readonly keys: CacheKeys;
  /** The partition streams of `writeBehind`, when enabled. */
  private readonly writeLog: WriteBehindLog | undefined;
  private readonly driver: RedisDriver;
  private readonly clock: ServerClock;
  private readonly call: CallOptions | undefined;
  private readonly serializer: Serializer;
  private readonly memory: MemoryTier | undefined;
  /** Counts reads when `hotKeys` is set. */
  private readonly detector: HotKeyDetector | undefined;
  /** Copies of each key when `replicas` > 0. */
  private readonly replicaKeys: ReplicaKeys | undefined;
  /** Newest version seen per key, when reads may come from copies or replicas that lag. */
  private readonly floors: VersionFloors | undefined;
  /** Where GET and MGET go: `readRedis`, or `redis`. */
  private readonly readDriver: RedisDriver;
  private readonly bus: InvalidationBus;
  private readonly breaker: CircuitBreaker;
  private readonly defaults: CallSettings;
  /** Loads in flight in this process, by entry key (single flight). */
  private readonly flights = new Map<string, Flight>();
  /** Keys whose loader failed recently: not called again before this time (performance.now()). */
  private readonly backoffUntil = new Map<string, number>();
  private closed = false;
  private warnedUnserializable = false;

  constructor(options: CacheOptions<Schema>) {
    this.options = parseOptions(cacheOptionsSchema, options, 'Cache');
    if (this.options.replicas > 0 && this.options.writeBehind !== false) {
      // Write-behind writes the primary entry in its own script: copies would keep older values.
      throw new InvalidOptionsError(
        [
          {
            path: 'replicas',
            message: 'cannot be combined with writeBehind (its writes reach the primary entry only)',
          },
        ],
        { context: 'Cache' },
      );
    }
    const { schema, schemaVersion } = this.options;
    // Write-behind keeps each key under its partition stream's hash tag (see write-behind.ts).
    this.writeLog = createWriteBehindLog(this.options);
    this.keys = new CacheKeys(
      this.options.namespace,
      schemaVersion !== undefined ? `v${schemaVersion}` : schema ? 'v1' : undefined,
      this.writeLog?.streamOf,
    );
    this.namespace = this.keys.namespace;
    this.driver = driverFor(this.options.redis);
    this.clock = serverClock(this.driver);
    void this.clock.sync();
    this.call = this.options.timeout === undefined ? undefined : { timeoutMs: this.options.timeout };
    this.serializer = this.options.serializer ?? jsonSerializer;
    this.events = new TelemetryEmitter<CacheEvents>('cache');
    const { l1, hotKeys, replicas, readRedis } = this.options;
    const maxPinned = hotKeys === false || hotKeys.pin === false ? 0 : hotKeys.pin.maxEntries;
    this.memory =
      l1 || maxPinned > 0
        ? new MemoryTier(l1 ? { maxEntries: l1.maxEntries, maxBytes: l1.maxBytes, ttl: l1.ttl } : undefined, maxPinned)
        : undefined;
    this.readDriver = readRedis ? driverFor(readRedis) : this.driver;
    this.replicaKeys =
      replicas > 0
        ? new ReplicaKeys(
            this.keys.namespace,
            schemaVersion !== undefined ? `v${schemaVersion}` : schema ? 'v1' : undefined,
            replicas,
          )
        : undefined;
    this.floors = this.replicaKeys || readRedis ? new VersionFloors() : undefined;
    this.bus = new InvalidationBus(this.options.redis, this.driver.timeoutMs, this.keys.channel, {
      key: (redisKey, version) => {
        const key = this.memory || this.floors ? this.keys.keyOf(redisKey) : undefined;
        if (key === undefined) return;
        this.memory?.invalidate(key, version);
        // Announced before the copies are written: a copy behind it is not served from now on.
        this.floors?.raise(key, version);
      },
      tag: (tag, version) => this.memory?.invalidateTag(tag, version),
      clear: () => this.memory?.clear(),
      reset: () => this.memory?.clear(),
    });
    // The memory tier may only fill once invalidations are guaranteed to arrive;
    // with copies or replicas, invalidations raise the version floors early.
    if (this.memory || this.floors) void this.bus.start();
    this.detector = hotKeys ? this.watchHotKeys(hotKeys) : undefined;
    this.breaker = new CircuitBreaker(this.options.breaker.failures, this.options.breaker.cooldown, (state) =>
      this.events.emit(state === 'open' ? 'breaker-open' : 'breaker-close', {}),
    );
    this.defaults = {
      ttl: this.options.ttl,
      grace: this.options.grace,
      tags: undefined,
      softTimeout: this.options.softTimeout,
      hardTimeout: this.options.hardTimeout,
    };
  }

  /**
   * The cached value of `key`, or the loader's: cache-aside with stampede
   * protection, stale serving, refresh-ahead and timeouts. Never fails because
   * of Redis: when Redis is down the loader's value is returned.
   *
   * @throws the loader's error (unless a stale value is served), `LoaderTimeoutError`,
   *   `InvalidOptionsError` before anything is sent.
   */
  getOrSet(key: string, loader: Loader<ValueOf<Schema>>, options?: GetOrSetOptions): Promise<ValueOf<Schema>> {
    const started = this.lookupClock();
    if (this.detector !== undefined && typeof key === 'string') this.detector.record(key);
    // A fresh memory hit without options needs no validation beyond the key and no I/O: answer it here.
    if (options === undefined && this.memory !== undefined && typeof key === 'string') {
      const hit = this.memory.get(key);
      if (hit !== undefined && typeof loader === 'function' && key.length <= 1024) {
        const now = this.clock.now();
        if (now < hit.freshUntil && (this.options.refreshAhead === false || !this.dueForRefresh(hit, now))) {
          if (this.events.listens('hit')) {
            this.events.emit('hit', { key, tier: 'memory', durationMs: this.lookupMs(started) });
          }
          return Promise.resolve(hit.value as ValueOf<Schema>);
        }
      }
    }
    return this.getOrSetThroughRedis(key, loader, options, started);
  }

  private async getOrSetThroughRedis(
    key: string,
    loader: Loader<ValueOf<Schema>>,
    options: GetOrSetOptions | undefined,
    started: number,
  ): Promise<ValueOf<Schema>> {
    const settings = this.settings(options, getOrSetOptionsSchema, 'Cache.getOrSet()');
    this.checkKey(key, 'Cache.getOrSet()');
    if (typeof loader !== 'function') {
      throw new InvalidOptionsError([{ path: 'loader', message: 'must be a function' }], {
        context: 'Cache.getOrSet()',
      });
    }
    const redisKey = this.keys.entry(key);
    const lookup = await this.lookup<ValueOf<Schema>>(key, redisKey);
    const found = lookup.found;
    if (found) {
      const now = this.clock.now();
      const fresh = now < found.freshUntil;
      if (fresh && this.events.listens('hit')) {
        this.events.emit('hit', { key, tier: found.tier, durationMs: this.lookupMs(started) });
      }
      if (!fresh && this.options.staleWhileRevalidate) {
        this.events.emit('stale-served', { key, reason: 'revalidating' });
      }
      // A fresh value due for refresh-ahead, or a stale one served while revalidating: refresh in the background.
      const refresh = fresh
        ? this.options.refreshAhead !== false && this.dueForRefresh(found, now)
        : this.options.staleWhileRevalidate;
      if (refresh) {
        const request = {
          key,
          redisKey,
          loader,
          settings,
          stale: found,
          background: true,
          skipRedis: lookup.redisFailed,
        };
        this.load(request).catch(() => {});
      }
      if (fresh || this.options.staleWhileRevalidate) return found.value;
    }
    if (this.events.listens('miss')) this.events.emit('miss', { key, durationMs: this.lookupMs(started) });
    return this.load({
      key,
      redisKey,
      loader,
      settings,
      stale: found,
      background: false,
      skipRedis: lookup.redisFailed,
    }) as Promise<ValueOf<Schema>>;
  }

  /** The fresh cached value of `key`, or undefined (also when Redis is unreachable: a miss, reported). */
  async get(key: string): Promise<ValueOf<Schema> | undefined> {
    const started = this.lookupClock();
    this.checkKey(key, 'Cache.get()');
    this.detector?.record(key);
    const { found } = await this.lookup<ValueOf<Schema>>(key, this.keys.entry(key));
    if (found && this.clock.now() < found.freshUntil) {
      if (this.events.listens('hit')) {
        this.events.emit('hit', { key, tier: found.tier, durationMs: this.lookupMs(started) });
      }
      return found.value;
    }
    if (this.events.listens('miss')) this.events.emit('miss', { key, durationMs: this.lookupMs(started) });
    return undefined;
  }

  /** Whether `key` has a fresh value (a cached "not found" counts as no value). */
  async has(key: string): Promise<boolean> {
    this.checkKey(key, 'Cache.has()');
    this.detector?.record(key);
    const { found } = await this.lookup(key, this.keys.entry(key));
    return found !== undefined && !found.negative && this.clock.now() < found.freshUntil;
  }

  /**
   * Stores a value unconditionally (newer than anything stored or loading),
   * and invalidates other processes' memory tiers.
   *
   * @throws RedisUnavailableError when Redis cannot be written.
   */
  async set(key: string, value: ValueOf<Schema>, options?: WriteOptions): Promise<void> {
    const settings = this.settings(options, writeOptionsSchema, 'Cache.set()');
    this.checkKey(key, 'Cache.set()');
    const tagVersions = await this.readTagVersions(settings.tags);
    await this.store(key, this.keys.entry(key), value, settings, 0, tagVersions, 0, '');
  }

  /** Start of a lookup for the hit/miss `durationMs`; the clock is read only when someone listens (the L1 hit path is a few hundred ns). */
  private lookupClock(): number {
    return this.events.listens('hit') || this.events.listens('miss') ? performance.now() : 0;
  }

  private lookupMs(started: number): number {
    return started === 0 ? 0 : performance.now() - started;
  }

  /** The shortest life of a delete's tombstone (see delete-entry.lua: it outlives the load lease too). */
  private get tombstoneMs(): number {
    return this.options.hardTimeout + 1_000;
  }

  /**
   * Deletes a key. A tombstone newer than any load in flight stays at least
   * the hard timeout and as long as the key's load lease, so a load that
   * started before the delete (with any per-call `hardTimeout`) cannot write
   * the old value back.
   *
   * @returns true when a live entry was deleted.
   * @throws RedisUnavailableError when Redis cannot be written.
   */
  async delete(key: string): Promise<boolean> {
    this.checkKey(key, 'Cache.delete()');
    const redisKey = this.keys.entry(key);
    const tombstoneMs = this.tombstoneMs;
    const [deleted, version] = await this.redis(() =>
      this.driver.script(
        deleteEntry,
        [redisKey, this.keys.lease(key)],
        [tombstoneMs, this.keys.channel, this.bus.shardChannelFor(redisKey)],
        this.call,
      ),
    );
    this.memory?.invalidate(key, Number(version));
    this.floors?.raise(key, Number(version));
    // Each copy gets a tombstone with the same version, so no copy can serve the deleted value once reached.
    await this.writeCopies(key, version, `${version}|d|0|0|0||`, tombstoneMs);
    return deleted === 1;
  }

  /** Fresh values of several keys (undefined where missing), read with one MGET per cluster slot. */
  async getMany(keys: readonly string[]): Promise<(ValueOf<Schema> | undefined)[]> {
    this.checkKeys(keys, 'Cache.getMany()');
    if (this.detector) for (const key of keys) this.detector.record(key);
    const found = await this.lookupMany<ValueOf<Schema>>(keys);
    const now = this.clock.now();
    return found.map((entry) => (entry && now < entry.freshUntil ? entry.value : undefined));
  }

  /**
   * Fresh values of several keys; the missing ones are loaded with one call
   * of `loadMany` (only for keys whose load lease this process took; keys
   * another process is loading are awaited), then stored.
   */
  async getOrSetMany(
    keys: readonly string[],
    loadMany: ManyLoader<ValueOf<Schema>>,
    options?: GetOrSetOptions,
  ): Promise<(ValueOf<Schema> | undefined)[]> {
    const settings = this.settings(options, getOrSetOptionsSchema, 'Cache.getOrSetMany()');
    this.checkKeys(keys, 'Cache.getOrSetMany()');
    if (this.detector) for (const key of keys) this.detector.record(key);
    const found = await this.lookupMany<ValueOf<Schema>>(keys);
    const now = this.clock.now();
    const result = found.map((entry) => (entry && now < entry.freshUntil ? entry.value : undefined));
    const missing = [...new Set(keys.filter((_, index) => !(found[index] && now < (found[index]?.freshUntil ?? 0))))];
    if (missing.length === 0) return result;
    const loaded = await this.loadBatch(missing, loadMany, settings);
    return keys.map((key, index) => (loaded.has(key) ? loaded.get(key) : result[index]));
  }

  /**
   * Wraps a function so its results are cached under `keyFn(...args)`.
   *
   * @example
   * ```ts
   * const findUser = cache.wrap((id: string) => db.users.find(id), (id) => `user:${id}`)
   * ```
   */
  wrap<Args extends unknown[]>(
    fn: (...args: Args) => ValueOf<Schema> | undefined | Promise<ValueOf<Schema> | undefined>,
    keyFn: (...args: Args) => string,
    options?: GetOrSetOptions,
  ): (...args: Args) => Promise<ValueOf<Schema>> {
    if (typeof fn !== 'function' || typeof keyFn !== 'function') {
      throw new InvalidOptionsError(
        [{ path: typeof fn !== 'function' ? 'fn' : 'keyFn', message: 'must be a function' }],
        {
          context: 'Cache.wrap()',
        },
      );
    }
    if (options !== undefined) parseOptions(getOrSetOptionsSchema, options, 'Cache.wrap()');
    return (...args: Args) => this.getOrSet(keyFn(...args), () => fn(...args), options);
  }

  /**
   * Write-through: saves `value` to the source with `save`, then stores it in
   * the cache, newer than any load in flight. When `save` fails nothing is
   * cached; when the cache write fails after a successful save,
   * `WriteThroughError` is thrown (the source has the value; the old cached
   * value, if any, was not replaced and lives until its ttl).
   */
  async writeThrough<Saved>(
    key: string,
    value: ValueOf<Schema>,
    save: (value: ValueOf<Schema>) => Saved | Promise<Saved>,
    options?: WriteOptions,
  ): Promise<Saved> {
    const settings = this.settings(options, writeOptionsSchema, 'Cache.writeThrough()');
    this.checkKey(key, 'Cache.writeThrough()');
    const saved = await save(value);
    try {
      const tagVersions = await this.readTagVersions(settings.tags);
      await this.store(key, this.keys.entry(key), value, settings, 0, tagVersions, 0, '');
    } catch (error) {
      throw new WriteThroughError(key, { cause: error });
    }
    return saved;
  }

  /**
   * Write-behind: stores `value` in the cache and, in the same atomic step,
   * appends the write to its partition stream, from which a flusher
   * (`writeBehindFlusher`) persists it to the source later. Once it resolves
   * the write is in Redis (as durable as the server's persistence and
   * replication; see docs/cache.md, "Write-behind"); it never resolves
   * without recording the write. Needs the cache option `writeBehind`.
   *
   * @returns the write's version (grows with every write of the key).
   * @throws RedisUnavailableError when Redis cannot be written (the write may or may not be recorded when the call timed out);
   *   InvalidOptionsError before anything is written.
   * @example
   * ```ts
   * const carts = new Cache({ redis, namespace: 'carts', ttl: '1h', writeBehind: { partitions: 8 } })
   * await carts.writeBehind(`cart:${id}`, cart)
   * ```
   */
  async writeBehind(key: string, value: ValueOf<Schema>, options?: WriteOptions): Promise<number> {
    const context = 'Cache.writeBehind()';
    const log = this.writeBehindLog(context);
    const settings = this.settings(options, writeOptionsSchema, context);
    this.checkKey(key, context);
    const encoded = await log.encode(value, this.options.compressAbove, context);
    const tagVersions = await this.readTagVersions(settings.tags);
    const ttl = Math.max(1, Math.round(settings.ttl * (1 - this.options.jitter * Math.random())));
    const entryKey = this.keys.entry(key);
    const write = {
      key,
      entryKey,
      leaseKey: this.keys.lease(key),
      ttl,
      grace: settings.grace,
      ...this.channelsFor(entryKey),
    };
    const version = await this.redis(() =>
      log.append(this.driver, { ...write, ...encoded, tags: encodeTags(tagVersions) }, this.call),
    );
    this.memory?.invalidate(key, version);
    this.floors?.raise(key, version);
    return version;
  }

  /**
   * Write-behind delete: a tombstone in the cache (newer than any load in
   * flight, as `delete` writes) and a delete for the flusher, atomically.
   *
   * @returns the delete's version.
   * @throws RedisUnavailableError, InvalidOptionsError as `writeBehind`.
   */
  async writeBehindDelete(key: string): Promise<number> {
    const context = 'Cache.writeBehindDelete()';
    const log = this.writeBehindLog(context);
    this.checkKey(key, context);
    const entryKey = this.keys.entry(key);
    const write = {
      key,
      entryKey,
      leaseKey: this.keys.lease(key),
      ttl: this.tombstoneMs,
      grace: 0,
      ...this.channelsFor(entryKey),
    };
    const version = await this.redis(() =>
      log.append(this.driver, { ...write, payload: undefined, plain: undefined, tags: '' }, this.call),
    );
    this.memory?.invalidate(key, version);
    this.floors?.raise(key, version);
    return version;
  }

  /**
   * Starts a flusher that applies this cache's write-behind writes to `sink`
   * in batches, in the consumer group `group` (@redkit/queue). Run one or
   * more per deployment; `stop()` it on shutdown.
   *
   * @throws InvalidOptionsError synchronously for bad options; nothing is written.
   * @example
   * ```ts
   * const flusher = carts.writeBehindFlusher({ group: 'db', sink: (writes) => db.upsertNewer(writes) })
   * ```
   */
  writeBehindFlusher(options: FlusherOptions<ValueOf<Schema>>): WriteBehindFlusher<ValueOf<Schema>> {
    const context = 'Cache.writeBehindFlusher()';
    const log = this.writeBehindLog(context);
    const resolved = parseOptions(flusherOptionsSchema, options, context);
    return new WriteBehindFlusher(this.options.redis, log, resolved, this.options.timeout);
  }

  /** The invalidation channels a write of `entryKey` is announced on. */
  private channelsFor(entryKey: string): { channel: string; shardChannel: string } {
    return { channel: this.keys.channel, shardChannel: this.bus.shardChannelFor(entryKey) };
  }

  private writeBehindLog(context: string): WriteBehindLog {
    if (this.writeLog) return this.writeLog;
    throw new InvalidOptionsError([{ path: 'writeBehind', message: 'is not enabled for this cache' }], { context });
  }

  /** Invalidates every entry stored with any of these tags, in every process. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    const checked = parseOptions(writeOptionsSchema, { tags }, 'Cache.invalidateTags()').tags ?? [];
    await Promise.all(
      checked.map(async (tag) => {
        const version = await this.redis(() =>
          this.driver.script(
            bumpTag,
            [this.keys.tag(tag)],
            [this.options.tagTtl, this.keys.channel, tag, this.bus.shardChannelFor(this.keys.tag(tag))],
            this.call,
          ),
        );
        this.memory?.invalidateTag(tag, Number(version));
      }),
    );
  }

  /** Deletes every key of the namespace on every master (SCAN + UNLINK) and clears every process's memory tier. */
  async clear(): Promise<void> {
    for await (const batch of scanAll(this.options.redis, this.keys.pattern())) {
      await Promise.all(batch.map((key) => this.driver.command('UNLINK', [key], this.call)));
    }
    this.memory?.clear();
    await this.driver.publish(this.keys.channel, 'c|0|');
  }

  /**
   * The hot keys of this instance's reads, hottest first (empty without the
   * `hotKeys` option), and whether each is pinned in memory. Also emits
   * `hot-key-cooled` for keys that stopped being hot since the last read.
   *
   * @example
   * ```ts
   * const products = new Cache({ redis, namespace: 'products', hotKeys: { threshold: 500, window: '10s' } })
   * products.events.on('hot-key', ({ key, estimate }) => log.warn({ key, estimate }, 'hot key'))
   * products.hotKeys() // [{ key: 'product:42', estimate: 812, pinned: true }]
   * ```
   */
  hotKeys(): CacheHotKey[] {
    if (!this.detector) return [];
    return this.detector
      .hotKeys()
      .map(({ key, estimate }) => ({ key, estimate, pinned: this.memory?.isPinned(key) ?? false }));
  }

  /**
   * Resolves once the memory tier's invalidation subscription is confirmed
   * (values are kept in memory only from then on); at once without `l1`.
   * Never rejects: while Redis is unreachable the tier simply stays empty.
   */
  async ready(): Promise<void> {
    if (this.memory) await this.bus.start();
  }

  /** Stops listening for invalidations and wakes every waiter. The Redis client is the caller's. */
  async close(): Promise<void> {
    this.closed = true;
    this.memory?.clear();
    await this.bus.close();
  }

  private settings(
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

  private checkKey(key: unknown, context: string, path = 'key'): void {
    if (typeof key === 'string' && key.length > 0 && key.length <= 1024) return;
    const result = keySchema.safeParse(key);
    const message = result.success ? 'is invalid' : (result.error.issues[0]?.message ?? 'is invalid');
    throw new InvalidOptionsError([{ path, message }], { context });
  }

  private checkKeys(keys: unknown, context: string): asserts keys is readonly string[] {
    if (!Array.isArray(keys)) {
      throw new InvalidOptionsError([{ path: 'keys', message: 'must be an array of keys' }], { context });
    }
    for (let index = 0; index < keys.length; index++) this.checkKey(keys[index], context, `keys.${index}`);
  }

  /** Runs a Redis call through the breaker; failures count and are rethrown as RedisUnavailableError. */
  private async redis<T>(run: () => Promise<T>): Promise<T> {
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

  /** Memory first, then one GET. */
  private async lookup<Value>(key: string, redisKey: string): Promise<Lookup<Value>> {
    const memory = this.memory?.get(key);
    if (memory && this.clock.now() < memory.staleUntil) return { found: memory as Found<Value>, redisFailed: false };
    if (!this.breaker.allows()) return noLookup;
    let blob: string | null;
    try {
      blob =
        this.floors === undefined
          ? await this.driver.command<string | null>('GET', [redisKey], this.call)
          : await this.readFloored(key, redisKey, this.floors);
      this.breaker.success();
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.breaker.failure();
      this.events.emit('redis-error', { error });
      return noLookup;
    }
    if (blob === null) return { found: undefined, redisFailed: false };
    return { found: await this.accept<Value>(key, decodeEntry(blob), blob.length), redisFailed: false };
  }

  /** Memory first, then one MGET per slot for the rest. */
  private async lookupMany<Value>(keys: readonly string[]): Promise<(Found<Value> | undefined)[]> {
    const redisKeys = keys.map((key) => this.keys.entry(key));
    // Dense (undefined, not holes, for misses): getMany hands this shape to callers, and forEach skips holes.
    const result: (Found<Value> | undefined)[] = new Array(keys.length).fill(undefined);
    const now = this.clock.now();
    const remote: number[] = [];
    keys.forEach((key, index) => {
      const memory = this.memory?.get(key);
      if (memory && now < memory.staleUntil) result[index] = memory as Found<Value>;
      else remote.push(index);
    });
    if (remote.length === 0 || !this.breaker.allows()) return result;
    const { floors, replicaKeys } = this;
    const fill = async (indexes: number[], readKeys: string[], driver: RedisDriver, retry: number[] | undefined) => {
      const groups = [...groupBySlot(readKeys).values()];
      await Promise.all(
        groups.map(async (group) => {
          let blobs: (string | null)[];
          try {
            // Lower case: as in readFloored, so `readRedis` may send it to a replica.
            blobs = await driver.command<(string | null)[]>('mget', group.keys, this.call);
          } catch (error) {
            // Copies or a replica unreachable: read these keys' primary entries instead.
            if (!retry || !(error instanceof RedisUnavailableError)) throw error;
            this.events.emit('redis-error', { error });
            for (const position of group.indexes) retry.push(indexes[position] as number);
            return;
          }
          await Promise.all(
            blobs.map(async (blob, position) => {
              const index = indexes[group.indexes[position] as number] as number;
              const key = keys[index] as string;
              // A copy or replica behind this instance's floor (or a missing copy): read the primary entry.
              if (
                retry &&
                floors &&
                (blob === null ? replicaKeys || floors.get(key) > 0 : versionOf(blob) < floors.get(key))
              ) {
                retry.push(index);
                return;
              }
              if (blob !== null) result[index] = await this.accept<Value>(key, decodeEntry(blob), blob.length);
            }),
          );
        }),
      );
    };
    try {
      if (floors === undefined) {
        await fill(
          remote,
          remote.map((index) => redisKeys[index] as string),
          this.driver,
          undefined,
        );
      } else {
        const retry: number[] = [];
        const readKeys = remote.map((index) =>
          replicaKeys ? replicaKeys.pick(keys[index] as string) : (redisKeys[index] as string),
        );
        await fill(remote, readKeys, this.readDriver, retry);
        if (retry.length > 0) {
          await fill(
            retry,
            retry.map((index) => redisKeys[index] as string),
            this.driver,
            undefined,
          );
        }
      }
      this.breaker.success();
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.breaker.failure();
      this.events.emit('redis-error', { error });
    }
    return result;
  }

  /**
   * Turns an entry read from Redis into a value: drops tombstones and entries
   * past their grace, checks tags and the schema (failures are misses), and
   * keeps it in the memory tier.
   */
  private async accept<Value>(
    key: string,
    entry: Entry | undefined,
    size: number,
    report = true,
  ): Promise<Found<Value> | undefined> {
    if (!entry) {
      if (report) this.events.emit('invalid-value', { key, error: 'not a cache entry' });
      return undefined;
    }
    this.floors?.raise(key, entry.version);
    const now = this.clock.now();
    if (entry.deleted || now >= entry.staleUntil) return undefined;
    if (entry.tags && !(await this.tagsStillValid(entry.tags))) return undefined;
    let value: unknown;
    if (!entry.negative) {
      try {
        value = decodePayload(entry.payload, entry.compressed, this.serializer);
      } catch (error) {
        if (report) this.events.emit('invalid-value', { key, error: `cannot decode: ${String(error)}` });
        return undefined;
      }
      const schema = this.options.schema;
      if (schema) {
        let result = schema['~standard'].validate(value);
        if (result instanceof Promise) result = await result;
        if (result.issues) {
          if (report) {
            this.events.emit('invalid-value', { key, error: result.issues.map((issue) => issue.message).join('; ') });
          }
          return undefined;
        }
        value = result.value;
      }
    }
    const found: Found<Value> = {
      value: value as Value,
      version: entry.version,
      negative: entry.negative,
      freshUntil: entry.freshUntil,
      staleUntil: entry.staleUntil,
      writtenAt: writtenAt(entry),
      loadMs: entry.loadMs,
      tags: entry.tags,
      tier: 'redis',
    };
    this.remember(key, found, size, now);
    return found;
  }

  private remember(key: string, entry: MemoryEntry, size: number, now: number): void {
    if (!this.memory || !this.bus.ready || this.closed) return;
    const { l1 } = this.options;
    const lifetime = entry.staleUntil - now;
    this.memory.set(key, entry, size, l1 && l1.ttl !== undefined ? Math.min(l1.ttl, lifetime) : lifetime);
  }

  /**
   * One GET of a copy (with `replicas`) or on `readRedis`. A copy or replica
   * may be behind the primary entry (written after it, or replicated
   * asynchronously): when it is older than the newest version this instance
   * has seen, or a copy is missing, the primary entry is read on its master,
   * which is never behind any copy. A replica's miss of a key this instance
   * has never seen is returned as a miss: the load that follows re-reads the
   * primary entry in `begin-load`.
   */
  private async readFloored(key: string, redisKey: string, floors: VersionFloors): Promise<string | null> {
    const copies = this.replicaKeys;
    let blob: string | null;
    try {
      // Lower case: ioredis sends only commands it knows as read-only (by their lower-case name) to replicas.
      blob = await this.readDriver.command<string | null>('get', [copies ? copies.pick(key) : redisKey], this.call);
    } catch (error) {
      // The copy's (or replica's) node is unreachable; the primary entry's master may not be.
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.events.emit('redis-error', { error });
      return this.driver.command<string | null>('GET', [redisKey], this.call);
    }
    if (blob === null ? !copies && floors.get(key) === 0 : versionOf(blob) >= floors.get(key)) return blob;
    return this.driver.command<string | null>('GET', [redisKey], this.call);
  }

  /**
   * Writes every copy of `key` with the version its primary entry got (N
   * scripts, one per copy's slot, concurrently). A copy that holds a newer
   * version keeps it. Rejects when a copy could not be written (that copy
   * stays behind until it expires; readers that saw the newer version skip it).
   */
  private async writeCopies(key: string, version: string | number, blob: string, lifetimeMs: number): Promise<void> {
    const copies = this.replicaKeys;
    if (!copies) return;
    const px = Math.max(1, Math.round(lifetimeMs));
    await this.redis(() =>
      Promise.all(
        copies.all(key).map((copy) => this.driver.script(setReplica, [copy], [version, blob, px], this.call)),
      ),
    );
  }

  /** Forwards the detector's events and pins hot keys (when `pin` is on) while they stay hot. */
  private watchHotKeys(options: Exclude<ResolvedCacheOptions['hotKeys'], false>): HotKeyDetector {
    const { pin: _pin, ...detectorOptions } = options;
    const detector = new HotKeyDetector(detectorOptions);
    detector.on('hot-key', ({ key, estimate }) => {
      const pinned = this.memory?.pin(key) ?? false;
      this.events.emit('hot-key', { key, estimate, pinned });
    });
    detector.on('cooled', ({ key, estimate }) => {
      this.memory?.unpin(key);
      this.events.emit('hot-key-cooled', { key, estimate });
    });
    return detector;
  }

  /** Whether `fraction` of the entry's ttl has passed, or XFetch says refresh now. */
  private dueForRefresh(found: MemoryEntry, now: number): boolean {
    const policy = this.options.refreshAhead;
    if (policy === false) return false;
    const left = found.freshUntil - now;
    if ('fraction' in policy) return left <= (found.freshUntil - found.writtenAt) * (1 - policy.fraction);
    // XFetch: -β·δ·ln(U) ≥ time left, U uniform in (0, 1].
    return -policy.beta * Math.max(1, found.loadMs) * Math.log(1 - Math.random()) >= left;
  }

  /**
   * In-process single flight around {@link loadOnce}. A caller that waits for
   * the value never joins a background refresh (which may end without one,
   * e.g. when another process holds the lease).
   */
  private load(request: LoadRequest<ValueOf<Schema>>): Promise<ValueOf<Schema> | undefined> {
    const { key, redisKey, background } = request;
    const inflight = this.flights.get(redisKey);
    if (inflight && (background || !inflight.background)) {
      if (!background) this.events.emit('stampede-collapsed', { key, via: 'in-process' });
      return inflight.promise as Promise<ValueOf<Schema> | undefined>;
    }
    const promise = this.loadOnce(request).finally(() => {
      if (this.flights.get(redisKey) === flight) this.flights.delete(redisKey);
    });
    const flight: Flight = { promise, background };
    this.flights.set(redisKey, flight);
    return promise;
  }

  private async loadOnce(request: LoadRequest<ValueOf<Schema>>): Promise<ValueOf<Schema> | undefined> {
    const { key, redisKey, loader, settings, stale, background, skipRedis } = request;
    const backoff = this.backoffUntil.get(redisKey);
    if (backoff !== undefined) {
      if (performance.now() < backoff && stale) {
        this.events.emit('stale-served', { key, reason: 'loader-error' });
        return stale.value;
      }
      if (performance.now() >= backoff) this.backoffUntil.delete(redisKey);
    }
    // XFetch's δ is the whole recomputation: the lease round trip, the loader and the write.
    const started = performance.now();
    let redisOk = !skipRedis;
    let start = 0;
    let token = '';
    let tagVersions: Map<string, number> | undefined;
    if (redisOk) {
      try {
        token = newToken();
        // The tags' versions and the start stamp are taken before the loader reads the source.
        const [reply, versions] = await Promise.all([
          this.redis(() =>
            this.driver.script(
              beginLoad,
              [redisKey, this.keys.lease(key)],
              [token, settings.hardTimeout + 1_000],
              this.call,
            ),
          ),
          this.readTagVersions(settings.tags),
        ]);
        tagVersions = versions;
        start = Number(reply[2]);
        // Re-read in the script: another process may have filled it since our GET (reported once, by the GET).
        const current =
          reply[0] === null
            ? undefined
            : await this.accept<ValueOf<Schema>>(key, decodeEntry(reply[0]), reply[0].length, false);
        if (current && this.clock.now() < current.freshUntil && (!stale || current.version > stale.version)) {
          // Filled by another process since our read (for a refresh: newer than the entry being refreshed).
          if (reply[1] === 1) await this.release(key, token);
          this.events.emit('stampede-collapsed', { key, via: 'lease' });
          return current.value;
        }
        if (reply[1] !== 1) {
          token = '';
          if (background) return undefined;
          const usable = stale ?? current;
          if (usable) {
            this.events.emit('stale-served', { key, reason: 'lock-wait' });
            return usable.value;
          }
          const awaited = await this.waitForOtherLoad<ValueOf<Schema>>(key, redisKey);
          if (awaited) {
            this.events.emit('stampede-collapsed', { key, via: 'lease' });
            return awaited.value;
          }
          // The other process did not finish within lockWait: load without the lease.
        }
      } catch (error) {
        if (!(error instanceof RedisUnavailableError)) throw error;
        redisOk = false;
        token = '';
      }
    }
    let value: ValueOf<Schema> | undefined;
    try {
      value = await this.runLoader(key, loader, settings, stale, (late) => {
        // The soft timeout returned the stale value; the load goes on and is stored when it finishes.
        if (redisOk) {
          this.store(key, redisKey, late, settings, start, tagVersions, performance.now() - started, token).catch(
            (error: unknown) => this.reportUnstored(key, error),
          );
        }
      });
    } catch (error) {
      if (error === softTimeoutReached) {
        // The lease stays with the load still running; its write releases it.
        this.events.emit('stale-served', { key, reason: 'soft-timeout' });
        return (stale as Found<ValueOf<Schema>>).value;
      }
      if (token) await this.release(key, token).catch(() => {});
      this.events.emit('loader-error', { key, error });
      if (this.options.staleIfError && stale) {
        this.backoffUntil.set(redisKey, performance.now() + this.options.errorBackoff);
        this.events.emit('stale-served', { key, reason: 'loader-error' });
        return stale.value;
      }
      throw error;
    }
    const durationMs = performance.now() - started;
    this.backoffUntil.delete(redisKey);
    if (redisOk) {
      try {
        await this.store(key, redisKey, value, settings, start, tagVersions, durationMs, token);
      } catch (error) {
        // Reported (as redis-error or unserializable); the caller still gets the loaded value.
        if (this.reportUnstored(key, error)) return value;
      }
    }
    this.events.emit('refresh', { key, durationMs, background });
    return value;
  }

  /**
   * Runs the loader with the hard timeout (its signal is aborted and
   * LoaderTimeoutError thrown) and, when a stale value exists, the soft
   * timeout (rejects with `softTimeoutReached`; `onLate` gets the value if
   * the load still succeeds).
   */
  private runLoader(
    key: string,
    loader: Loader<ValueOf<Schema>>,
    settings: CallSettings,
    stale: Found<ValueOf<Schema>> | undefined,
    onLate: (value: ValueOf<Schema> | undefined) => void,
  ): Promise<ValueOf<Schema> | undefined> {
    const controller = new AbortController();
    return new Promise((resolve, reject) => {
      let settled = false;
      let softFired = false;
      const hard = setTimeout(() => {
        if (settled && !softFired) return;
        controller.abort(new LoaderTimeoutError(key, settings.hardTimeout));
        if (!settled) {
          settled = true;
          reject(new LoaderTimeoutError(key, settings.hardTimeout));
        }
      }, settings.hardTimeout);
      const soft =
        stale && settings.softTimeout !== undefined && settings.softTimeout < settings.hardTimeout
          ? setTimeout(() => {
              if (settled) return;
              settled = true;
              softFired = true;
              reject(softTimeoutReached);
            }, settings.softTimeout)
          : undefined;
      Promise.resolve()
        .then(() => loader({ key, signal: controller.signal, stale: stale?.value }))
        .then(
          (value) => {
            clearTimeout(hard);
            if (soft) clearTimeout(soft);
            if (!settled) {
              settled = true;
              resolve(value);
            } else if (softFired && !controller.signal.aborted) {
              onLate(value);
            }
          },
          (error: unknown) => {
            clearTimeout(hard);
            if (soft) clearTimeout(soft);
            if (!settled) {
              settled = true;
              reject(error);
            }
          },
        );
    });
  }

  /** Stores a loaded or given value (a "not found" only with negativeTtl) and keeps it in memory. */
  private async store(
    key: string,
    redisKey: string,
    value: ValueOf<Schema> | undefined,
    settings: CallSettings,
    start: number,
    tagVersions: Map<string, number> | undefined,
    loadMs: number,
    token: string,
  ): Promise<void> {
    const negative = value === undefined;
    if (negative && this.options.negativeTtl === 0) {
      if (token) await this.release(key, token);
      return;
    }
    let payload: EncodedPayload = { text: '', compressed: false };
    if (!negative) {
      try {
        payload = encodePayload(value, this.serializer, this.options.compressAbove, key);
      } catch (error) {
        // Other processes must not wait on a lease for a value that will never be stored.
        if (token) await this.release(key, token).catch(() => {});
        throw error;
      }
    }
    const baseTtl = negative ? this.options.negativeTtl : settings.ttl;
    const ttl = Math.max(1, Math.round(baseTtl * (1 - this.options.jitter * Math.random())));
    const grace = negative ? 0 : settings.grace;
    const flags = (negative ? 'n' : '') + (payload.compressed ? 'z' : '');
    const [written, version] = await this.redis(() =>
      this.driver.script(
        setEntry,
        [redisKey, this.keys.lease(key)],
        [
          start,
          flags,
          ttl,
          grace,
          Math.round(loadMs),
          encodeTags(tagVersions),
          payload.text,
          token,
          this.keys.channel,
          this.bus.shardChannelFor(redisKey),
          this.tombstoneMs,
        ],
        this.call,
      ),
    );
    if (written !== 1) return;
    this.floors?.raise(key, version);
    if (this.replicaKeys) {
      const freshUntil = Math.floor(version / 1000) + ttl;
      const blob = `${version}|${flags}|${freshUntil}|${freshUntil + grace}|${Math.round(loadMs)}|${encodeTags(tagVersions)}|${payload.text}`;
      await this.writeCopies(key, String(version), blob, ttl + grace);
    }
    const now = this.clock.now();
    this.remember(
      key,
      {
        tier: 'memory',
        value,
        version,
        negative,
        freshUntil: now + ttl,
        staleUntil: now + ttl + grace,
        writtenAt: now,
        loadMs: Math.round(loadMs),
        tags: tagVersions,
      },
      payload.text.length,
      now,
    );
  }

  /**
   * A loaded value the serializer refused: reported as `unserializable` and,
   * once per cache, as a process warning (every call will run the loader).
   * @returns whether `error` was that (other errors were reported already).
   */
  private reportUnstored(key: string, error: unknown): boolean {
    if (!(error instanceof UnserializableValueError)) return false;
    this.events.emit('unserializable', { key, error: error.message });
    if (!this.warnedUnserializable) {
      this.warnedUnserializable = true;
      process.emitWarning(
        `cache ${this.namespace}: ${error.message}. Such values are returned but never cached, so the loader runs on every call.`,
        { code: 'REDKIT_CACHE_UNSERIALIZABLE' },
      );
    }
    return true;
  }

  private release(key: string, token: string): Promise<number> {
    return this.driver.script(releaseLease, [this.keys.lease(key)], [token], this.call);
  }

  /** Each tag's current version (0 when never invalidated), one GET per tag, concurrently. */
  private async readTagVersions(tags: readonly string[] | undefined): Promise<Map<string, number> | undefined> {
    if (!tags || tags.length === 0) return undefined;
    const versions = await this.redis(() =>
      Promise.all(tags.map((tag) => this.driver.command<string | null>('GET', [this.keys.tag(tag)], this.call))),
    );
    return new Map(tags.map((tag, index) => [tag, Number(versions[index] ?? 0)]));
  }

  /** An entry is valid while none of its tags was invalidated after its load started. */
  private async tagsStillValid(tags: ReadonlyMap<string, number>): Promise<boolean> {
    const current = await this.readTagVersions([...tags.keys()]);
    for (const [tag, version] of tags) if ((current?.get(tag) ?? 0) > version) return false;
    return true;
  }

  /**
   * Waits for another process's load of `redisKey`: woken by its write's
   * invalidation message, with polling as a backstop, for at most lockWait.
   */
  private async waitForOtherLoad<Value>(key: string, redisKey: string): Promise<Found<Value> | undefined> {
    await this.bus.start();
    const until = performance.now() + this.options.lockWait;
    let pause = 25;
    while (!this.closed) {
      const left = until - performance.now();
      if (left <= 0) return undefined;
      await this.bus.waitFor(redisKey, Math.min(pause, left));
      pause = Math.min(pause * 2, 400);
      let blob: string | null;
      try {
        blob = await this.redis(() => this.driver.command<string | null>('GET', [redisKey], this.call));
      } catch {
        return undefined;
      }
      if (blob === null) continue;
      const found = await this.accept<Value>(key, decodeEntry(blob), blob.length);
      if (found && this.clock.now() < found.freshUntil) return found;
    }
    return undefined;
  }

  /** getOrSetMany's loads: leases per key, one loader call for the keys this process leased. */
  private async loadBatch(
    keys: readonly string[],
    loadMany: ManyLoader<ValueOf<Schema>>,
    settings: CallSettings,
  ): Promise<Map<string, ValueOf<Schema> | undefined>> {
    const results = new Map<string, ValueOf<Schema> | undefined>();
    const leased: { key: string; token: string; start: number }[] = [];
    /** Keys another process is loading, with this call's start stamp (kept if it ends up loading them). */
    const waiting: { key: string; start: number }[] = [];
    let redisOk = true;
    const tagVersions = await this.readTagVersions(settings.tags).catch(() => {
      redisOk = false;
      return undefined;
    });
    if (redisOk) {
      await Promise.all(
        keys.map(async (key) => {
          const redisKey = this.keys.entry(key);
          const token = newToken();
          try {
            const reply = await this.redis(() =>
              this.driver.script(
                beginLoad,
                [redisKey, this.keys.lease(key)],
                [token, settings.hardTimeout + 1_000],
                this.call,
              ),
            );
            const current =
              reply[0] === null
                ? undefined
                : await this.accept<ValueOf<Schema>>(key, decodeEntry(reply[0]), reply[0].length);
            if (current && this.clock.now() < current.freshUntil) {
              if (reply[1] === 1) await this.release(key, token);
              results.set(key, current.value);
            } else if (reply[1] === 1) {
              leased.push({ key, token, start: Number(reply[2]) });
            } else {
              waiting.push({ key, start: Number(reply[2]) });
            }
          } catch {
            redisOk = false;
            leased.push({ key, token: '', start: 0 });
          }
        }),
      );
    } else {
      for (const key of keys) leased.push({ key, token: '', start: 0 });
    }
    await Promise.all(
      waiting.map(async ({ key, start }) => {
        const found = await this.waitForOtherLoad<ValueOf<Schema>>(key, this.keys.entry(key));
        if (found) {
          this.events.emit('stampede-collapsed', { key, via: 'lease' });
          results.set(key, found.value);
        } else {
          // Conditional on the stamp: a write or delete since then wins over this load.
          leased.push({ key, token: '', start });
        }
      }),
    );
    if (leased.length === 0) return results;
    const controller = new AbortController();
    const started = performance.now();
    let loaded: Map<string, ValueOf<Schema>>;
    try {
      loaded = await withHardTimeout(
        Promise.resolve().then(() =>
          loadMany(
            leased.map((entry) => entry.key),
            { signal: controller.signal },
          ),
        ),
        settings.hardTimeout,
        () => {
          const error = new LoaderTimeoutError(leased.map((entry) => entry.key).join(','), settings.hardTimeout);
          controller.abort(error);
          return error;
        },
      );
    } catch (error) {
      await Promise.all(
        leased.filter((entry) => entry.token).map((entry) => this.release(entry.key, entry.token).catch(() => {})),
      );
      this.events.emit('loader-error', { key: leased.map((entry) => entry.key).join(','), error });
      throw error;
    }
    if (!(loaded instanceof Map)) {
      throw new InvalidOptionsError([{ path: 'loadMany', message: 'must return a Map of key → value' }]);
    }
    const durationMs = performance.now() - started;
    const unstored = new Set<string>();
    await Promise.all(
      leased.map(async ({ key, token, start }) => {
        const value = loaded.get(key);
        results.set(key, value);
        if (!redisOk) return;
        await this.store(key, this.keys.entry(key), value, settings, start, tagVersions, durationMs, token).catch(
          (error: unknown) => {
            if (this.reportUnstored(key, error)) unstored.add(key);
          },
        );
      }),
    );
    for (const { key } of leased) {
      if (!unstored.has(key)) this.events.emit('refresh', { key, durationMs, background: false });
    }
    return results;
  }
}

/** Rejection of the soft timeout (internal: turned into serving the stale value). */
const softTimeoutReached = Symbol('soft timeout');

function withHardTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
