import { EventEmitter } from 'node:events';
import {
  driverFor,
  escapeKeyPart,
  groupBySlot,
  InvalidOptionsError,
  Keyspace,
  type PipelineCommand,
  parseOptions,
  type RedisDriver,
  scanAll,
  unescapeKeyPart,
} from '@redkit/core';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { type KeyvStoreOptions, keyvStoreOptionsSchema } from './keyv-options.js';

/** The last part of every key this store writes, so its keys never meet a `Cache`'s (`:e`) in one namespace. */
const entryPart = 'kv';

/** Characters that SCAN MATCH reads as a glob; a Keyv namespace may contain them. */
const globSpecial = /[*?[\]\\]/g;

// Command names are in lower case, as ioredis keeps them: it looks every
// name up several times per command (flags, key positions, on a cluster the
// slot), lower-casing it each time. On a cluster a raw `call('get', …)` cost
// 29.0 and 30.8 Node µs against 35.6 and 38.3 for `call('GET', …)` in two
// runs (lower in 13 of 14 rounds); no difference on a single server.

/** `SET` arguments: key, value, and `PX <ms>` when there is a ttl. */
type SetArgs = [key: string, value: string] | [key: string, value: string, px: 'PX', ms: number];

const orUndefined = (value: string | null): string | undefined => value ?? undefined;
const isOne = (count: number): boolean => count === 1;
const isPositive = (count: number): boolean => count > 0;
const yes = (): boolean => true;

/** An entry of `setMany`, as Keyv passes it (value already serialized, ttl in ms). */
export interface KeyvStoreEntry {
  key: string;
  // biome-ignore lint/suspicious/noExplicitAny: Keyv's own type; anything but a string is refused at run time
  value: any;
  ttl?: number;
}

/**
 * A Keyv storage adapter on redkit's Redis layout: `new Keyv({ store })` and
 * cache-manager 7 keep their API, and every key is built by core's key builder
 * (`<namespace>:{<Keyv key>}:kv`), each its own hash tag, so the store works
 * the same on a single server and on a Redis Cluster.
 *
 * Keyv serializes values (with its `serialize` option) and stores the string;
 * a ttl becomes the key's `PX`, so Redis drops expired entries itself. Every
 * call is one command, or one per slot group on a cluster for the `…Many`
 * calls. `clear()` and `iterator()` SCAN every master for this store's keys,
 * limited to Keyv's namespace when it has one.
 *
 * Failures are emitted as `'error'` (Keyv forwards them to its own listeners)
 * and resolve as a miss, `false` or nothing, as `@keyv/redis` does, unless
 * `throwOnErrors` is set. Bad input (a key that is not a non-empty string, a
 * value that is not a string, a ttl that is not a positive number) throws
 * `InvalidOptionsError` naming the field, before anything is sent.
 *
 * @example
 * ```ts
 * import Keyv from 'keyv'
 * import { RedkitKeyvStore } from '@redkit/cache/keyv'
 *
 * const keyv = new Keyv({ store: new RedkitKeyvStore({ redis, namespace: 'shop:keyv' }) })
 * await keyv.set('user:42', { name: 'Ada' }, 60_000)
 * ```
 */
export class RedkitKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  /**
   * What Keyv reads from a store: `dialect: 'redis'` makes Keyv offer
   * `keyv.iterator()` on top of {@link RedkitKeyvStore.iterator}.
   */
  readonly opts: { readonly dialect: 'redis'; readonly url: string; readonly namespace: string };
  /**
   * Keyv's namespace, set by Keyv on the store it is given (`'keyv'` unless
   * the Keyv has another). Keyv prefixes its keys with it (`<namespace>:<key>`);
   * `clear()` deletes only keys with that prefix.
   */
  namespace: string | undefined;
  private readonly keyspace: Keyspace;
  private readonly driver: RedisDriver;
  private readonly throwOnErrors: boolean;
  private readonly scanCount: number;
  private readonly head: string;

  constructor(options: KeyvStoreOptions) {
    super();
    const parsed = parseOptions(keyvStoreOptionsSchema, options, 'RedkitKeyvStore');
    this.keyspace = new Keyspace(parsed.namespace);
    this.driver = driverFor(parsed.redis);
    this.throwOnErrors = parsed.throwOnErrors;
    this.scanCount = parsed.scanCount;
    this.head = `${this.keyspace.namespace}:{`;
    this.opts = { dialect: 'redis', url: 'redis', namespace: parsed.namespace };
  }

  /** The stored (serialized) value of `key`, or undefined. One GET. */
  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    // Not async, and no guard closure: the hot path awaits the driver's promise
    // and one handler (two promise layers fewer, measured in the keyv-get-hit bench).
    let redisKey: string;
    try {
      redisKey = this.redisKey(key, 'key', 'get()');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.driver.command<string | null>('get', [redisKey]).then(orUndefined, this.undefinedOnError) as Promise<
      StoredData<Value> | undefined
    >;
  }

  /**
   * The stored values of `keys`, in their order, with undefined for each miss.
   * One MGET (one per slot group on a cluster, sent together).
   */
  async getMany<Value>(keys: string[]): Promise<StoredData<Value | undefined>[]> {
    const redisKeys = this.redisKeys(keys, 'getMany()');
    return this.guard(
      async () => (await this.readMany(redisKeys)) as StoredData<Value | undefined>[],
      keys.map(() => undefined) as StoredData<Value | undefined>[],
    );
  }

  /** Whether `key` exists. One EXISTS. */
  has(key: string): Promise<boolean> {
    let redisKey: string;
    try {
      redisKey = this.redisKey(key, 'key', 'has()');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.driver.command<number>('exists', [redisKey]).then(isOne, this.falseOnError);
  }

  /**
   * Stores `value` (the string Keyv serialized) under `key`, expiring after
   * `ttl` ms if given. One SET. Resolves `false` if Redis failed.
   */
  set(key: string, value: string, ttl?: number): Promise<boolean> {
    let args: SetArgs;
    try {
      args = this.setArgs(key, value, ttl, '', 'set()');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.driver.command('set', args).then(yes, this.falseOnError);
  }

  /**
   * Stores several entries: one pipeline (one per slot group on a cluster).
   * Every entry is checked before anything is sent. Resolves with one boolean
   * per entry (whether it was written), which `keyv.setMany()` hands on; the
   * type says `void` only because Keyv's store interface does.
   */
  async setMany(entries: KeyvStoreEntry[]): Promise<void> {
    return (await this.writeMany(entries)) as unknown as undefined;
  }

  private async writeMany(entries: KeyvStoreEntry[]): Promise<boolean[]> {
    if (!Array.isArray(entries)) {
      throw new InvalidOptionsError([{ path: 'entries', message: 'must be an array' }], { context: 'setMany()' });
    }
    const commands = entries.map((entry, index): PipelineCommand => {
      if (typeof entry !== 'object' || entry === null) {
        throw new InvalidOptionsError([{ path: `entries.${index}`, message: 'must be { key, value, ttl? }' }], {
          context: 'setMany()',
        });
      }
      return ['set', ...this.setArgs(entry.key, entry.value, entry.ttl, `entries.${index}.`, 'setMany()')];
    });
    return this.guard(
      async () => {
        const done = entries.map(() => true);
        await this.inGroups(
          commands.map((command) => command[1] as string),
          async (indexes) => {
            const replies = await this.driver.pipeline(indexes.map((index) => commands[index] as PipelineCommand));
            replies.forEach(([error], position) => {
              if (error) done[indexes[position] as number] = false;
            });
          },
        );
        return done;
      },
      entries.map(() => false),
    );
  }

  /** Deletes `key`; true if it existed. One UNLINK. */
  delete(key: string): Promise<boolean> {
    let redisKey: string;
    try {
      redisKey = this.redisKey(key, 'key', 'delete()');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.driver.command<number>('unlink', [redisKey]).then(isPositive, this.falseOnError);
  }

  /** Deletes `keys`; true if any of them existed. One UNLINK (one per slot group on a cluster). */
  async deleteMany(keys: string[]): Promise<boolean> {
    const redisKeys = this.redisKeys(keys, 'deleteMany()');
    return this.guard(async () => (await this.unlink(redisKeys)) > 0, false);
  }

  /**
   * Deletes every key of this store in Keyv's namespace (every key of the
   * store when Keyv has none), on every master: SCAN over the whole keyspace of
   * each master (O(keys on the server), not O(keys deleted)), then UNLINK.
   */
  async clear(): Promise<void> {
    const pattern = this.pattern(this.namespace);
    await this.guard(async () => {
      for await (const batch of scanAll(this.driver, pattern, { count: this.scanCount })) {
        await this.unlink(batch.filter((redisKey) => this.keyOf(redisKey) !== undefined));
      }
    }, undefined);
  }

  /**
   * Every entry of this store in `namespace` (all of them without one), as
   * `[Keyv key, stored value]`, from a SCAN of every master; each batch of keys
   * is read with MGET per slot group. Entries written or deleted meanwhile may
   * or may not appear, as with SCAN itself. Keyv calls it with its namespace
   * from `keyv.iterator()`.
   */
  async *iterator<Value>(namespace?: string): AsyncGenerator<[string, Value], void> {
    if (namespace !== undefined && typeof namespace !== 'string') {
      throw new InvalidOptionsError([{ path: 'namespace', message: 'must be a string' }], { context: 'iterator()' });
    }
    const pattern = this.pattern(namespace);
    try {
      for await (const batch of scanAll(this.driver, pattern, { count: this.scanCount })) {
        const found = batch.flatMap((redisKey) => {
          const key = this.keyOf(redisKey);
          return key === undefined ? [] : [{ key, redisKey }];
        });
        const values = await this.readMany(found.map(({ redisKey }) => redisKey));
        for (const [index, { key }] of found.entries()) {
          const value = values[index];
          if (value !== undefined) yield [key, value as Value];
        }
      }
    } catch (error) {
      this.report(error);
      if (this.throwOnErrors) throw error;
    }
  }

  /** Keyv calls this from `keyv.disconnect()`. The client is yours (you passed it in): it stays open. */
  async disconnect(): Promise<void> {}

  /** The Keyv key of one of this store's Redis keys (undefined for any other key). */
  private keyOf(redisKey: string): string | undefined {
    const tail = `}:${entryPart}`;
    if (!redisKey.startsWith(this.head) || !redisKey.endsWith(tail)) return undefined;
    const escaped = redisKey.slice(this.head.length, redisKey.length - tail.length);
    // An escaped key holds no `}`: anything else is not one of this store's keys.
    return escaped.includes('}') ? undefined : unescapeKeyPart(escaped);
  }

  /** SCAN MATCH pattern of this store's keys whose Keyv key starts with `<namespace>:`. */
  private pattern(namespace: string | undefined): string {
    const prefix = namespace ? escapeKeyPart(`${namespace}:`).replace(globSpecial, '\\$&') : '';
    return `${this.head}${prefix}*}:${entryPart}`;
  }

  private redisKey(key: unknown, path: string, context: string): string {
    if (typeof key !== 'string' || key.length === 0) {
      throw new InvalidOptionsError([{ path, message: 'must be a non-empty string' }], { context });
    }
    return this.keyspace.key(key, entryPart);
  }

  private redisKeys(keys: unknown, context: string): string[] {
    if (!Array.isArray(keys)) {
      throw new InvalidOptionsError([{ path: 'keys', message: 'must be an array of strings' }], { context });
    }
    return keys.map((key, index) => this.redisKey(key, `keys.${index}`, context));
  }

  /** Arguments of `SET key value [PX ttl]`, after checking all three. */
  private setArgs(key: unknown, value: unknown, ttl: unknown, path: string, context: string): SetArgs {
    const redisKey = this.redisKey(key, `${path}key`, context);
    if (typeof value !== 'string') {
      throw new InvalidOptionsError(
        [{ path: `${path}value`, message: 'must be a string (Keyv serializes values before they reach the store)' }],
        { context },
      );
    }
    if (ttl === undefined || ttl === null) return [redisKey, value];
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
      throw new InvalidOptionsError(
        [{ path: `${path}ttl`, message: 'must be a positive number of ms, or undefined' }],
        {
          context,
        },
      );
    }
    // PX takes whole ms; rounding up never expires an entry early.
    return [redisKey, value, 'PX', Math.ceil(ttl)];
  }

  /**
   * Runs `send` once for all keys on a single server, or once per slot group
   * on a cluster (a multi-key command or pipeline must stay in one slot there),
   * all groups at once.
   */
  private async inGroups(redisKeys: readonly string[], send: (indexes: number[]) => Promise<void>): Promise<void> {
    if (redisKeys.length === 0) return;
    if (this.driver.topology === 'standalone') return send(redisKeys.map((_, index) => index));
    await Promise.all([...groupBySlot(redisKeys).values()].map((group) => send(group.indexes)));
  }

  private async readMany(redisKeys: readonly string[]): Promise<(string | undefined)[]> {
    const values: (string | undefined)[] = new Array(redisKeys.length).fill(undefined);
    await this.inGroups(redisKeys, async (indexes) => {
      const found = await this.driver.command<(string | null)[]>(
        'mget',
        indexes.map((index) => redisKeys[index] as string),
      );
      found.forEach((value, position) => {
        if (value !== null) values[indexes[position] as number] = value;
      });
    });
    return values;
  }

  /** UNLINKs the keys; resolves with how many existed. */
  private async unlink(redisKeys: readonly string[]): Promise<number> {
    let deleted = 0;
    await this.inGroups(redisKeys, async (indexes) => {
      // Not `deleted += await …`: that reads `deleted` before the await, and the groups run at once.
      const count = await this.driver.command<number>(
        'unlink',
        indexes.map((index) => redisKeys[index] as string),
      );
      deleted += count;
    });
    return deleted;
  }

  /** Runs a Redis call; a failure is emitted, then thrown or answered with `fallback`. */
  private async guard<Result>(run: () => Promise<Result>, fallback: Result): Promise<Result> {
    try {
      return await run();
    } catch (error) {
      return this.fail(error, fallback);
    }
  }

  /** A failed call: emitted, then thrown (`throwOnErrors`) or answered with `fallback`. */
  private fail<Result>(error: unknown, fallback: Result): Result {
    this.report(error);
    if (this.throwOnErrors) throw error;
    return fallback;
  }

  /** Rejection handlers of the one-command calls, made once rather than per call. */
  private readonly undefinedOnError = (error: unknown): undefined => this.fail(error, undefined);
  private readonly falseOnError = (error: unknown): boolean => this.fail(error, false);

  /** Emits `'error'` only to listeners: with none (a store used without Keyv), Node would throw it instead. */
  private report(error: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
