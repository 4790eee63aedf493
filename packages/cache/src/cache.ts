import { InvalidOptionsError, parseOptions, scanAll, type TelemetryEmitter } from '@redkit/core';
import type { HotKeyDetector } from '@redkit/hotkeys';
import { CacheContext, type CallSettings } from './cache-context.js';
import { encodeTags } from './entry.js';
import { WriteThroughError } from './errors.js';
import type { CacheEvents } from './events.js';
import { type CacheHotKey, watchHotKeys } from './hot-keys.js';
import { Leases } from './leases.js';
import { LoadCoordinator, loadRequestOf } from './load-coordinator.js';
import type { Loader, ManyLoader } from './loader.js';
import {
  type CacheOptions,
  cacheOptionsSchema,
  copiesOf,
  type GetOrSetOptions,
  getOrSetOptionsSchema,
  keySchema,
  type OutputOf,
  type ResolvedCacheOptions,
  type StandardSchema,
  type WriteOptions,
  writeOptionsSchema,
} from './options.js';
import { ReadPath } from './read-path.js';
import { dueForRefresh } from './refresh-policy.js';
import { Tags } from './tags.js';
import { createWriteBehindLog, type WriteBehindLog } from './write-behind.js';
import { WriteBehindFlusher } from './write-behind-flusher.js';
import { type FlusherOptions, flusherOptionsSchema } from './write-behind-options.js';
import { WritePath } from './write-path.js';

export type { CacheHotKey } from './hot-keys.js';
export type { Loader, LoaderContext, ManyLoader } from './loader.js';

/** The value type of a cache: the schema's output, or `unknown` without one. */
export type ValueOf<Schema> = Schema extends StandardSchema ? OutputOf<Schema> : unknown;

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
 * - **Memory tier**: `memory: { maxEntries, maxBytes }` keeps values in memory, kept
 *   coherent by versioned invalidations over pub/sub.
 * - **Hot keys**: `hotKeys` detects them and pins them in memory;
 *   `copies: N` spreads a key's reads over N copies on every master;
 *   `readRedis` serves reads from cluster replicas. Version floors keep an
 *   instance from ever reading back an older value.
 * - **Tags** (`set(..., { tags })`, `invalidateTags`), `clear()`, negative
 *   caching, TTL jitter, pluggable serializer, gzip, schema validation.
 *
 * @example
 * ```ts
 * const users = new Cache({ redis, namespace: 'users', ttl: '5m', grace: '1h', memory: { maxEntries: 10_000 } })
 * const user = await users.getOrSet(`user:${id}`, () => db.users.find(id), { tags: [`team:${teamId}`] })
 * await users.invalidateTags([`team:${teamId}`])
 * ```
 */
export class Cache<Schema extends StandardSchema | undefined = undefined> {
  /** Typed telemetry: hit, miss, stale-served, refresh, stampede-collapsed, breaker-open … */
  readonly events: TelemetryEmitter<CacheEvents>;
  /** The key namespace. */
  readonly namespace: string;
  private readonly context: CacheContext;
  private readonly options: ResolvedCacheOptions;
  /** The partition streams of `writeBehind`, when enabled. */
  private readonly writeLog: WriteBehindLog | undefined;
  private readonly reads: ReadPath;
  private readonly writes: WritePath;
  private readonly loads: LoadCoordinator;
  private readonly tags: Tags;
  /** Counts reads when `hotKeys` is set. */
  private readonly detector: HotKeyDetector | undefined;

  constructor(options: CacheOptions<Schema>) {
    this.options = parseOptions(cacheOptionsSchema, options, 'Cache');
    const copies = copiesOf(this.options);
    if (copies.count > 0 && this.options.writeBehind !== false) {
      // Write-behind writes the primary entry in its own script: copies would keep older values.
      throw new InvalidOptionsError(
        [
          {
            path: copies.option,
            message: 'cannot be combined with writeBehind (its writes reach the primary entry only)',
          },
        ],
        { context: 'Cache' },
      );
    }
    this.writeLog = createWriteBehindLog(this.options);
    const context = new CacheContext(this.options, this.writeLog);
    this.context = context;
    this.events = context.events;
    this.namespace = context.keys.namespace;
    const leases = new Leases(context);
    this.tags = new Tags(context);
    this.reads = new ReadPath(context, this.tags);
    this.writes = new WritePath(context, leases);
    this.loads = new LoadCoordinator(context, this.reads, this.writes, leases, this.tags);
    this.detector = this.options.hotKeys ? watchHotKeys(this.options.hotKeys, context) : undefined;
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
    const memory = this.context.memory;
    if (options === undefined && memory !== undefined && typeof key === 'string') {
      const hit = memory.get(key);
      if (hit !== undefined && typeof loader === 'function' && key.length <= 1024) {
        const now = this.context.clock.now();
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
    const settings = this.context.settings(options, getOrSetOptionsSchema, 'Cache.getOrSet()');
    this.checkKey(key, 'Cache.getOrSet()');
    if (typeof loader !== 'function') {
      throw new InvalidOptionsError([{ path: 'loader', message: 'must be a function' }], {
        context: 'Cache.getOrSet()',
      });
    }
    const redisKey = this.context.keys.entry(key);
    const lookup = await this.reads.lookup<ValueOf<Schema>>(key, redisKey);
    const found = lookup.found;
    if (found) {
      const now = this.context.clock.now();
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
      if (refresh) this.loads.load(loadRequestOf(key, redisKey, loader, settings, lookup, true)).catch(() => {});
      if (fresh || this.options.staleWhileRevalidate) return found.value;
    }
    if (this.events.listens('miss')) this.events.emit('miss', { key, durationMs: this.lookupMs(started) });
    return this.loads.load(loadRequestOf(key, redisKey, loader, settings, lookup, false)) as Promise<ValueOf<Schema>>;
  }

  /** The fresh cached value of `key`, or undefined (also when Redis is unreachable: a miss, reported). */
  async get(key: string): Promise<ValueOf<Schema> | undefined> {
    const started = this.lookupClock();
    this.checkKey(key, 'Cache.get()');
    this.detector?.record(key);
    const { found } = await this.reads.lookup<ValueOf<Schema>>(key, this.context.keys.entry(key));
    if (found && this.context.clock.now() < found.freshUntil) {
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
    const { found } = await this.reads.lookup(key, this.context.keys.entry(key));
    return found !== undefined && !found.negative && this.context.clock.now() < found.freshUntil;
  }

  /**
   * Stores a value unconditionally (newer than anything stored or loading),
   * and invalidates other processes' memory tiers.
   *
   * @throws RedisUnavailableError when Redis cannot be written.
   */
  async set(key: string, value: ValueOf<Schema>, options?: WriteOptions): Promise<void> {
    const settings = this.context.settings(options, writeOptionsSchema, 'Cache.set()');
    this.checkKey(key, 'Cache.set()');
    await this.storeGiven(key, value, settings);
  }

  /** A write of a given value: unconditional, with no lease and no load time. */
  private async storeGiven(key: string, value: ValueOf<Schema>, settings: CallSettings): Promise<void> {
    const tagVersions = await this.tags.versions(settings.tags);
    const redisKey = this.context.keys.entry(key);
    await this.writes.store({ key, redisKey, value, settings, start: 0, tagVersions, loadMs: 0, token: '' });
  }

  /** Start of a lookup for the hit/miss `durationMs`; the clock is read only when someone listens (the L1 hit path is a few hundred ns). */
  private lookupClock(): number {
    return this.events.listens('hit') || this.events.listens('miss') ? performance.now() : 0;
  }

  private lookupMs(started: number): number {
    return started === 0 ? 0 : performance.now() - started;
  }

  private dueForRefresh(found: Parameters<typeof dueForRefresh>[1], now: number): boolean {
    return dueForRefresh(this.options.refreshAhead, found, now);
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
    return this.writes.delete(key);
  }

  /** Fresh values of several keys (undefined where missing), read with one MGET per cluster slot. */
  async getMany(keys: readonly string[]): Promise<(ValueOf<Schema> | undefined)[]> {
    this.checkKeys(keys, 'Cache.getMany()');
    if (this.detector) for (const key of keys) this.detector.record(key);
    const found = await this.reads.lookupMany<ValueOf<Schema>>(keys);
    const now = this.context.clock.now();
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
    const settings = this.context.settings(options, getOrSetOptionsSchema, 'Cache.getOrSetMany()');
    this.checkKeys(keys, 'Cache.getOrSetMany()');
    if (this.detector) for (const key of keys) this.detector.record(key);
    const found = await this.reads.lookupMany<ValueOf<Schema>>(keys);
    const now = this.context.clock.now();
    const result = found.map((entry) => (entry && now < entry.freshUntil ? entry.value : undefined));
    const missing = [...new Set(keys.filter((_, index) => !(found[index] && now < (found[index]?.freshUntil ?? 0))))];
    if (missing.length === 0) return result;
    const loaded = await this.loads.loadBatch(missing, loadMany as ManyLoader<unknown>, settings);
    return keys.map((key, index) => (loaded.has(key) ? (loaded.get(key) as ValueOf<Schema>) : result[index]));
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
    const settings = this.context.settings(options, writeOptionsSchema, 'Cache.writeThrough()');
    this.checkKey(key, 'Cache.writeThrough()');
    const saved = await save(value);
    try {
      await this.storeGiven(key, value, settings);
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
    const settings = this.context.settings(options, writeOptionsSchema, context);
    this.checkKey(key, context);
    const encoded = await log.encode(value, this.options.compressAbove, context);
    const tagVersions = await this.tags.versions(settings.tags);
    const ttl = Math.max(1, Math.round(settings.ttl * (1 - this.options.jitter * Math.random())));
    const entryKey = this.context.keys.entry(key);
    const write = {
      key,
      entryKey,
      leaseKey: this.context.keys.lease(key),
      ttl,
      grace: settings.grace,
      ...this.context.channelsFor(entryKey),
    };
    const version = await this.context.redis(() =>
      log.append(this.context.driver, { ...write, ...encoded, tags: encodeTags(tagVersions) }, this.context.call),
    );
    this.context.memory?.invalidate(key, version);
    this.context.floors?.raise(key, version);
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
    const entryKey = this.context.keys.entry(key);
    const write = {
      key,
      entryKey,
      leaseKey: this.context.keys.lease(key),
      ttl: this.context.tombstoneMs,
      grace: 0,
      ...this.context.channelsFor(entryKey),
    };
    const version = await this.context.redis(() =>
      log.append(this.context.driver, { ...write, payload: undefined, plain: undefined, tags: '' }, this.context.call),
    );
    this.context.memory?.invalidate(key, version);
    this.context.floors?.raise(key, version);
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

  private writeBehindLog(context: string): WriteBehindLog {
    if (this.writeLog) return this.writeLog;
    throw new InvalidOptionsError([{ path: 'writeBehind', message: 'is not enabled for this cache' }], { context });
  }

  /** Invalidates every entry stored with any of these tags, in every process. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    const checked = parseOptions(writeOptionsSchema, { tags }, 'Cache.invalidateTags()').tags ?? [];
    await this.tags.invalidate(checked);
  }

  /** Deletes every key of the namespace on every master (SCAN + UNLINK) and clears every process's memory tier. */
  async clear(): Promise<void> {
    for await (const batch of scanAll(this.options.redis, this.context.keys.pattern())) {
      await Promise.all(batch.map((key) => this.context.driver.command('UNLINK', [key], this.context.call)));
    }
    this.context.memory?.clear();
    await this.context.driver.publish(this.context.keys.channel, 'c|0|');
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
      .map(({ key, estimate }) => ({ key, estimate, pinned: this.context.memory?.isPinned(key) ?? false }));
  }

  /**
   * Resolves once the memory tier's invalidation subscription is confirmed
   * (values are kept in memory only from then on); at once without `memory`.
   * Never rejects: while Redis is unreachable the tier simply stays empty.
   */
  async ready(): Promise<void> {
    if (this.context.memory) await this.context.bus.start();
  }

  /** Stops listening for invalidations and wakes every waiter. The Redis client is the caller's. */
  async close(): Promise<void> {
    this.context.closed = true;
    this.context.memory?.clear();
    await this.context.bus.close();
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

  /** Forwards the detector's events and pins hot keys (when `pin` is on) while they stay hot. */
}
