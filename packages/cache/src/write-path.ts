import type { CacheContext, CallSettings } from './cache-context.js';
import { encodeEntry, encodeTags, tombstone } from './entry.js';
import { UnserializableValueError } from './errors.js';
import type { Leases } from './leases.js';
import { setReplica } from './replicas.js';
import { deleteEntry, setEntry } from './scripts.js';
import { type EncodedPayload, encodePayload } from './serializer.js';

/** One write of a value: loaded (with the load's stamp and lease) or given by the caller. */
export interface StoreRequest {
  readonly key: string;
  readonly redisKey: string;
  /** The value; undefined stores "not found" (only with `negativeTtl`). */
  readonly value: unknown;
  readonly settings: CallSettings;
  /** Server time in µs when the load began (a newer write or delete wins), or 0 to write unconditionally. */
  readonly start: number;
  /** The tags' versions when the load began. */
  readonly tagVersions: ReadonlyMap<string, number> | undefined;
  /** How long the load took, ms (XFetch's δ). */
  readonly loadMs: number;
  /** The lease token this write releases, or ''. */
  readonly token: string;
}

/**
 * Where writes go: the versioned primary entry (`set-entry`, `delete-entry`),
 * then the key's copies, then the memory tier.
 */
export class WritePath {
  private readonly context: CacheContext;
  private readonly leases: Leases;
  private warnedUnserializable = false;

  constructor(context: CacheContext, leases: Leases) {
    this.context = context;
    this.leases = leases;
  }

  /** Stores a loaded or given value (a "not found" only with negativeTtl) and keeps it in memory. */
  async store(request: StoreRequest): Promise<void> {
    const { key, redisKey, value, settings, start, tagVersions, token } = request;
    const { options, serializer, driver, keys, bus, call } = this.context;
    const negative = value === undefined;
    if (negative && options.negativeTtl === 0) {
      if (token) await this.leases.release(key, token);
      return;
    }
    let payload: EncodedPayload = { text: '', compressed: false };
    if (!negative) {
      try {
        payload = encodePayload(value, serializer, options.compressAbove, key);
      } catch (error) {
        // Other processes must not wait on a lease for a value that will never be stored.
        if (token) await this.leases.release(key, token).catch(() => {});
        throw error;
      }
    }
    const baseTtl = negative ? options.negativeTtl : settings.ttl;
    const ttl = Math.max(1, Math.round(baseTtl * (1 - options.jitter * Math.random())));
    const grace = negative ? 0 : settings.grace;
    const flags = (negative ? 'n' : '') + (payload.compressed ? 'z' : '');
    const loadMs = Math.round(request.loadMs);
    const tags = encodeTags(tagVersions);
    const [written, version, freshUntil] = await this.context.redis(() =>
      driver.script(
        setEntry,
        [redisKey, keys.lease(key)],
        [
          start,
          flags,
          ttl,
          grace,
          loadMs,
          tags,
          payload.text,
          token,
          keys.channel,
          bus.shardChannelFor(redisKey),
          this.context.tombstoneMs,
        ],
        call,
      ),
    );
    if (written !== 1) return;
    this.context.floors?.raise(key, version);
    if (this.context.replicaKeys) {
      const until = freshUntil as number;
      const blob = encodeEntry({
        version,
        flags,
        freshUntil: until,
        staleUntil: until + grace,
        loadMs,
        tags,
        payload: payload.text,
      });
      await this.writeCopies(key, String(version), blob, ttl + grace);
    }
    const now = this.context.clock.now();
    this.context.remember(
      key,
      {
        tier: 'memory',
        value,
        version,
        negative,
        freshUntil: now + ttl,
        staleUntil: now + ttl + grace,
        writtenAt: now,
        loadMs,
        tags: tagVersions,
      },
      payload.text.length,
      now,
    );
  }

  /**
   * Replaces `key`'s entry by a tombstone (and each copy's), newer than any
   * load in flight.
   *
   * @returns true when a live entry was deleted.
   */
  async delete(key: string): Promise<boolean> {
    const { driver, keys, bus, call, memory, floors } = this.context;
    const redisKey = keys.entry(key);
    const tombstoneMs = this.context.tombstoneMs;
    const [deleted, version] = await this.context.redis(() =>
      driver.script(
        deleteEntry,
        [redisKey, keys.lease(key)],
        [tombstoneMs, keys.channel, bus.shardChannelFor(redisKey)],
        call,
      ),
    );
    memory?.invalidate(key, Number(version));
    floors?.raise(key, Number(version));
    // Each copy gets a tombstone with the same version, so no copy can serve the deleted value once reached.
    await this.writeCopies(key, version, tombstone(version), tombstoneMs);
    return deleted === 1;
  }

  /**
   * A loaded value the serializer refused: reported as `unserializable` and,
   * once per cache, as a process warning (every call will run the loader).
   * @returns whether `error` was that (other errors were reported already).
   */
  reportUnstored(key: string, error: unknown): boolean {
    if (!(error instanceof UnserializableValueError)) return false;
    this.context.events.emit('unserializable', { key, error: error.message });
    if (!this.warnedUnserializable) {
      this.warnedUnserializable = true;
      process.emitWarning(
        `cache ${this.context.keys.namespace}: ${error.message}. Such values are returned but never cached, so the loader runs on every call.`,
        { code: 'REDKIT_CACHE_UNSERIALIZABLE' },
      );
    }
    return true;
  }

  /**
   * Writes every copy of `key` with the version its primary entry got (N
   * scripts, one per copy's slot, concurrently). A copy that holds a newer
   * version keeps it. Rejects when a copy could not be written (that copy
   * stays behind until it expires; readers that saw the newer version skip it).
   */
  private async writeCopies(key: string, version: string | number, blob: string, lifetimeMs: number): Promise<void> {
    const copies = this.context.replicaKeys;
    if (!copies) return;
    const { driver, call } = this.context;
    const px = Math.max(1, Math.round(lifetimeMs));
    await this.context.redis(() =>
      Promise.all(copies.all(key).map((copy) => driver.script(setReplica, [copy], [version, blob, px], call))),
    );
  }
}
