/**
 * What the express-session and @fastify/session stores share: reading a
 * session for a framework and remembering what was read, writing back only
 * what the request changed, the callback plumbing, and the keyspace-wide
 * admin calls. Not a public entry point.
 *
 * @module
 */
import { type Duration, durationSchema, parseOptions } from '@redkit/core';
import type { DataInputOf, PutResult, SessionSchema, SessionStore } from '@redkit/session';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { encodeValue } from './session-data.js';

/** Session data as a framework hands it over and gets it back: JSON fields, `cookie` among them. */
export type FrameworkSessionData = Record<string, unknown>;

/** Options shared by the framework stores. */
export interface FrameworkStoreOptions<Schema extends SessionSchema | undefined = undefined> {
  /**
   * The store that keeps the sessions. Its `ttl` (idle timeout) and
   * `absoluteTtl` decide when a session ends; set the framework's cookie
   * `maxAge` to match. A `schema`, if any, must accept the framework's
   * `cookie` field.
   */
  store: SessionStore<Schema>;
  /**
   * Finds the session's user in its data, for `list(userId)` and
   * `destroyAll(userId)` ("log out everywhere"). Return null or undefined for
   * an anonymous session.
   * @default the `userId` field when it is a non-empty string
   */
  userId?: (session: FrameworkSessionData) => string | null | undefined;
  /**
   * How many sessions' last reads this process remembers, to write back only
   * the fields a request changed. A session whose read was forgotten is
   * written whole (still never over a destroyed id).
   * @default 10000
   */
  readCacheSize?: number;
  /**
   * How long a read is remembered: longer than your slowest request.
   * @default "5m"
   */
  readCacheTtl?: Duration;
}

export const isFunction = (value: unknown) => typeof value === 'function';

/** The `store` option: duck-typed rather than instanceof, so a store from another copy of the package is accepted. */
export const sessionStoreSchema = z.custom<SessionStore<SessionSchema | undefined>>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['get', 'getFields', 'put', 'touch', 'destroy', 'scanIds'].every((method) =>
      isFunction((value as Record<string, unknown>)[method]),
    ),
  'must be a SessionStore from @redkit/session',
);

/** The options every framework store takes besides the store. */
export const frameworkOptionsShape = {
  userId: z.custom<(session: FrameworkSessionData) => unknown>(isFunction, 'must be a function').optional(),
  readCacheSize: z.number().int('must be a whole number').min(1).max(10_000_000).default(10_000),
  readCacheTtl: durationSchema({ min: 1, max: 24 * 3_600_000 }).default(5 * 60_000),
};

const optionsSchema = z.object({ store: sessionStoreSchema, ...frameworkOptionsShape }).strict();

/**
 * How a framework store turns session data into the stored fields and back
 * (connect-redis's `serializer`, applied field by field). Without one,
 * fields are stored as JSON.
 */
export interface FieldCodec {
  /** The stored form of a session: one string per top-level field. */
  encode(session: FrameworkSessionData): FrameworkSessionData;
  /** The session of its stored fields. */
  decode(stored: FrameworkSessionData): Promise<FrameworkSessionData>;
}

/** What {@link FrameworkSessions} needs, options parsed. */
export interface FrameworkConfig<Schema extends SessionSchema | undefined> {
  readonly store: SessionStore<Schema>;
  readonly userId?: ((session: FrameworkSessionData) => unknown) | undefined;
  readonly readCacheSize: number;
  readonly readCacheTtl: number;
  readonly codec?: FieldCodec | undefined;
  readonly scanCount?: number | undefined;
}

/** The default `userId`: the session's `userId` field when it is a non-empty string. */
const userIdField = (session: FrameworkSessionData) =>
  typeof session.userId === 'string' && session.userId !== '' ? session.userId : null;

/** A session as `all` lists it: its data with its `id`. */
export interface ListedFrameworkSession {
  id: string;
  cookie?: unknown;
  [field: string]: unknown;
}

/** A session's data fields as read: each field's JSON text, as stored. */
export type FrameworkSnapshot = Readonly<Record<string, string>>;

/** What `read` returns: the data for the framework to mutate, and its fields' text as read. */
export interface FrameworkRead {
  readonly data: FrameworkSessionData;
  readonly snapshot: FrameworkSnapshot;
}

/**
 * A session store as a framework drives it, over a {@link SessionStore}.
 * Each framework store wraps one and adapts its calling convention.
 */
export class FrameworkSessions<Schema extends SessionSchema | undefined = undefined> {
  readonly sessions: SessionStore<Schema>;
  private readonly userIdOf: (session: FrameworkSessionData) => unknown;
  /** The latest read of each session id in this process (for frameworks that give no per-request identity). */
  private readonly reads: LRUCache<string, FrameworkSnapshot>;

  private readonly codec: FieldCodec | undefined;
  private readonly scanCount: number | undefined;

  /** @throws InvalidOptionsError naming the field when an option is wrong. */
  static parse<Schema extends SessionSchema | undefined>(
    options: FrameworkStoreOptions<Schema>,
    context: string,
  ): FrameworkSessions<Schema> {
    const parsed = parseOptions(optionsSchema, options, context);
    return new FrameworkSessions({ ...parsed, store: parsed.store as unknown as SessionStore<Schema> });
  }

  constructor(config: FrameworkConfig<Schema>) {
    this.sessions = config.store;
    this.userIdOf = config.userId ?? userIdField;
    this.reads = new LRUCache({ max: config.readCacheSize, ttl: config.readCacheTtl, ttlAutopurge: false });
    this.codec = config.codec;
    this.scanCount = config.scanCount;
  }

  /**
   * Reads a live session (without renewing it: the framework touches or
   * saves it when the response ends) and remembers what was read.
   */
  async read(sid: string): Promise<FrameworkRead | null> {
    const session = await this.sessions.getFields(sid);
    if (session === null) {
      this.reads.delete(sid);
      return null;
    }
    // The snapshot is text, so the framework may mutate the data (parsed afresh) without a copy.
    const snapshot = session.fields;
    this.reads.set(sid, snapshot);
    const stored = session.data as FrameworkSessionData;
    const data = this.codec ? await this.codec.decode(stored) : stored;
    return { data, snapshot };
  }

  /**
   * Writes a session back. Only the fields that differ from `previous` (the
   * data this request read; by default this process's latest read of `sid`)
   * are written, so concurrent requests that change different fields both
   * keep their change, and a session that ended meanwhile is not brought
   * back. A destroyed id is never written again.
   */
  async write(sid: string, session: object, previous?: FrameworkSnapshot, ttl?: number): Promise<PutResult> {
    const { data, userId } = this.stored(session);
    const previousFields = previous ?? this.reads.get(sid);
    const result = await this.sessions.put(sid, data as DataInputOf<Schema>, {
      userId,
      ...(previousFields === undefined ? {} : { previousFields }),
      ...(ttl === undefined ? {} : { ttl }),
    });
    // Kept after a write: another request of this session still in flight compares with it.
    if (result !== 'written') this.reads.delete(sid);
    return result;
  }

  /**
   * Stores a session's `cookie` (its new expiry) and renews its time to
   * live, in one script, leaving every other field as stored. A session
   * that ended (expired, destroyed) is not brought back: false.
   */
  touchCookie(sid: string, session: object, ttl?: number): Promise<boolean> {
    const cookie = (session as FrameworkSessionData).cookie;
    const options = ttl === undefined ? {} : { ttl };
    if (cookie === undefined) return this.sessions.touch(sid, options);
    // With the serializer, or as JSON (through the cookie's toJSON) by the store itself.
    const stored = this.codec ? this.codec.encode({ cookie }).cookie : cookie;
    return this.sessions.touch(sid, { ...options, set: { cookie: stored } });
  }

  /** Renews a session's idle expiry; false when it no longer exists. */
  touch(sid: string): Promise<boolean> {
    return this.sessions.touch(sid);
  }

  /** What a session is stored as, and its user. */
  private stored(session: object): { data: FrameworkSessionData; userId: string | null } {
    // What the framework would serialise: own enumerable fields, `cookie` through its toJSON.
    const plain = this.codec ? { ...(session as FrameworkSessionData) } : jsonOf(session);
    const userId = (this.userIdOf(plain) ?? null) as string | null;
    return { data: this.codec ? this.codec.encode(plain) : plain, userId };
  }

  /** Destroys a session; requests of it still in flight cannot write it back. */
  async destroy(sid: string): Promise<void> {
    this.reads.delete(sid);
    await this.sessions.destroy(sid);
  }

  /** Every session id, once each (SCAN may repeat keys). O(all sessions). */
  async *ids(): AsyncGenerator<string[]> {
    const seen = new Set<string>();
    for await (const batch of this.sessions.scanIds(this.scanCount === undefined ? {} : { count: this.scanCount })) {
      const fresh = batch.filter((id) => !seen.has(id));
      for (const id of fresh) seen.add(id);
      if (fresh.length > 0) yield fresh;
    }
  }

  /** Every live session's data with its `id`. O(all sessions). */
  async all(): Promise<ListedFrameworkSession[]> {
    const found: ListedFrameworkSession[] = [];
    for await (const ids of this.ids()) {
      const sessions = await Promise.all(ids.map((id) => this.sessions.getFields(id)));
      for (const [index, session] of sessions.entries()) {
        if (!session) continue;
        const data = session.data as FrameworkSessionData;
        found.push({ ...(this.codec ? await this.codec.decode(data) : data), id: ids[index] as string });
      }
    }
    return found;
  }

  /** How many sessions there are. O(all sessions). */
  async count(): Promise<number> {
    let count = 0;
    for await (const ids of this.ids()) count += ids.length;
    return count;
  }

  /** Destroys every session of the namespace. O(all sessions). */
  async clear(): Promise<void> {
    for await (const ids of this.ids()) await Promise.all(ids.map((id) => this.destroy(id)));
  }
}

/**
 * What the framework would store of a session: its own enumerable fields as
 * JSON, `cookie` through its toJSON. A field that is not JSON is an
 * InvalidOptionsError naming it (`data.<field>`).
 */
function jsonOf(session: object): FrameworkSessionData {
  try {
    return JSON.parse(JSON.stringify(session)) as FrameworkSessionData;
  } catch (error) {
    for (const [field, value] of Object.entries(session)) encodeValue(value, `data.${field}`, 'session store');
    throw error;
  }
}

/**
 * The calling convention of express-session's stores (connect-redis's
 * too): with a callback, reports to it and returns nothing; without one,
 * returns a Promise.
 */
export function respond<Value>(
  work: () => Promise<Value>,
  callback: ((error: unknown, value?: Value) => void) | undefined,
): Promise<Value> | undefined {
  if (callback !== undefined) {
    settle(work, callback);
    return undefined;
  }
  try {
    return work();
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Runs `work` and reports to a Node-style callback: `(null, value)` or
 * `(error)`. Nothing throws synchronously, and a callback that throws is not
 * called a second time.
 */
export function settle<Value>(
  work: () => Promise<Value>,
  callback: ((error: unknown, value?: Value) => void) | undefined,
): void {
  let promise: Promise<Value>;
  try {
    promise = work();
  } catch (error) {
    promise = Promise.reject(error);
  }
  promise.then(
    (value) => callback?.(null, value),
    (error: unknown) => callback?.(error),
  );
}
