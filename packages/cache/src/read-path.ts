import { groupBySlot, type RedisDriver, RedisUnavailableError } from '@redkit/core';
import type { CacheContext } from './cache-context.js';
import { decodeEntry, type Entry, versionOf, writtenAt } from './entry.js';
import type { MemoryEntry } from './memory-tier.js';
import type { VersionFloors } from './replicas.js';
import { decodePayload } from './serializer.js';
import type { Tags } from './tags.js';

/** A value found in memory or Redis, with its entry's times. */
export interface Found<Value> extends MemoryEntry {
  readonly value: Value;
}

/** A lookup: what was found, and whether Redis failed (so the call skips it from then on). */
export interface Lookup<Value> {
  readonly found: Found<Value> | undefined;
  readonly redisFailed: boolean;
}

const noLookup: Lookup<never> = { found: undefined, redisFailed: true };

/**
 * Where reads go: the memory tier, then a copy (`replicas`) or a Redis
 * replica (`readRedis`) when they are set and not behind what this instance
 * has seen, then the primary entry on its master. Entries read are decoded,
 * checked (tombstones, grace, tags, the schema) and kept in memory.
 */
export class ReadPath {
  private readonly context: CacheContext;
  private readonly tags: Tags;

  constructor(context: CacheContext, tags: Tags) {
    this.context = context;
    this.tags = tags;
  }

  /** Memory first, then one GET. */
  async lookup<Value>(key: string, redisKey: string): Promise<Lookup<Value>> {
    const memory = this.context.memory?.get(key);
    if (memory && this.context.clock.now() < memory.staleUntil)
      return { found: memory as Found<Value>, redisFailed: false };
    if (!this.context.breaker.allows()) return noLookup;
    let blob: string | null;
    try {
      blob =
        this.context.floors === undefined
          ? await this.context.driver.command<string | null>('GET', [redisKey], this.context.call)
          : await this.readFloored(key, redisKey, this.context.floors);
      this.context.breaker.success();
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.context.breaker.failure();
      this.context.events.emit('redis-error', { error });
      return noLookup;
    }
    if (blob === null) return { found: undefined, redisFailed: false };
    return { found: await this.accept<Value>(key, decodeEntry(blob), blob.length), redisFailed: false };
  }

  /** Memory first, then one MGET per slot for the rest. */
  async lookupMany<Value>(keys: readonly string[]): Promise<(Found<Value> | undefined)[]> {
    const redisKeys = keys.map((key) => this.context.keys.entry(key));
    // Dense (undefined, not holes, for misses): getMany hands this shape to callers, and forEach skips holes.
    const result: (Found<Value> | undefined)[] = new Array(keys.length).fill(undefined);
    const now = this.context.clock.now();
    const remote: number[] = [];
    keys.forEach((key, index) => {
      const memory = this.context.memory?.get(key);
      if (memory && now < memory.staleUntil) result[index] = memory as Found<Value>;
      else remote.push(index);
    });
    if (remote.length === 0 || !this.context.breaker.allows()) return result;
    const { floors, replicaKeys } = this.context;
    const fill = async (indexes: number[], readKeys: string[], driver: RedisDriver, retry: number[] | undefined) => {
      const groups = [...groupBySlot(readKeys).values()];
      await Promise.all(
        groups.map(async (group) => {
          let blobs: (string | null)[];
          try {
            // Lower case: as in readFloored, so `readRedis` may send it to a replica.
            blobs = await driver.command<(string | null)[]>('mget', group.keys, this.context.call);
          } catch (error) {
            // Copies or a replica unreachable: read these keys' primary entries instead.
            if (!retry || !(error instanceof RedisUnavailableError)) throw error;
            this.context.events.emit('redis-error', { error });
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
          this.context.driver,
          undefined,
        );
      } else {
        const retry: number[] = [];
        const readKeys = remote.map((index) =>
          replicaKeys ? replicaKeys.pick(keys[index] as string) : (redisKeys[index] as string),
        );
        await fill(remote, readKeys, this.context.readDriver, retry);
        if (retry.length > 0) {
          await fill(
            retry,
            retry.map((index) => redisKeys[index] as string),
            this.context.driver,
            undefined,
          );
        }
      }
      this.context.breaker.success();
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.context.breaker.failure();
      this.context.events.emit('redis-error', { error });
    }
    return result;
  }

  /**
   * Turns an entry read from Redis into a value: drops tombstones and entries
   * past their grace, checks tags and the schema (failures are misses), and
   * keeps it in the memory tier.
   */
  async accept<Value>(
    key: string,
    entry: Entry | undefined,
    size: number,
    report = true,
  ): Promise<Found<Value> | undefined> {
    if (!entry) {
      if (report) this.context.events.emit('invalid-value', { key, error: 'not a cache entry' });
      return undefined;
    }
    this.context.floors?.raise(key, entry.version);
    const now = this.context.clock.now();
    if (entry.deleted || now >= entry.staleUntil) return undefined;
    if (entry.tags && !(await this.tags.stillValid(entry.tags))) return undefined;
    let value: unknown;
    if (!entry.negative) {
      try {
        value = decodePayload(entry.payload, entry.compressed, this.context.serializer);
      } catch (error) {
        if (report) this.context.events.emit('invalid-value', { key, error: `cannot decode: ${String(error)}` });
        return undefined;
      }
      const schema = this.context.options.schema;
      if (schema) {
        let result = schema['~standard'].validate(value);
        if (result instanceof Promise) result = await result;
        if (result.issues) {
          if (report) {
            this.context.events.emit('invalid-value', {
              key,
              error: result.issues.map((issue) => issue.message).join('; '),
            });
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
    this.context.remember(key, found, size, now);
    return found;
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
    const copies = this.context.replicaKeys;
    let blob: string | null;
    try {
      // Lower case: ioredis sends only commands it knows as read-only (by their lower-case name) to replicas.
      blob = await this.context.readDriver.command<string | null>(
        'get',
        [copies ? copies.pick(key) : redisKey],
        this.context.call,
      );
    } catch (error) {
      // The copy's (or replica's) node is unreachable; the primary entry's master may not be.
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.context.events.emit('redis-error', { error });
      return this.context.driver.command<string | null>('GET', [redisKey], this.context.call);
    }
    if (blob === null ? !copies && floors.get(key) === 0 : versionOf(blob) >= floors.get(key)) return blob;
    return this.context.driver.command<string | null>('GET', [redisKey], this.context.call);
  }
}
