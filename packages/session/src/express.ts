/**
 * express-session store: `@redkit/session/express`.
 *
 * Typed with small structural types rather than `@types/express-session`,
 * so it needs neither that nor `@types/express`; the store is still
 * accepted where `@types/express-session` expects a `Store`.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';
import { InvalidOptionsError } from '@redkit/core';
import type { SessionSchema, SessionStore } from '@redkit/session';
// express-session ships no types and @types/express-session is optional (the base class is typed below).
// biome-ignore lint/suspicious/noTsIgnore: not @ts-expect-error, which would fail once @types/express-session is installed.
// @ts-ignore
import expressSession from 'express-session';
import { type ExpressSessionStoreOptions, parseExpressOptions } from './express-options.js';
import { fieldCodec } from './field-serializer.js';
import {
  type FrameworkSessionData,
  FrameworkSessions,
  type FrameworkSnapshot,
  type ListedFrameworkSession,
  respond,
} from './framework-store.js';

export type { ConnectRedisOptions, ExpressSessionStoreOptions } from './express-options.js';
export type { SessionSerializer } from './field-serializer.js';
export type { ListedFrameworkSession } from './framework-store.js';

/** A session as express-session hands it to a store and gets it back: its data fields and its `cookie`. */
export interface ExpressSessionData {
  cookie?: unknown;
}

/** What `set` and `touch` take: express-session's `Session`, or any object of JSON fields (with a `cookie` or not). */
export type ExpressSessionInput = ExpressSessionData | Record<string, unknown>;

/** Callback of `set`, `destroy`, `touch` and `clear`: `(error)` once done. */
export type ExpressStoreCallback = (error?: unknown) => void;

/** Node-style callback of the reads (`get`, `all`, `ids`, `length`): `(error, value)`. */
export type ExpressValueCallback<Value> = (error: unknown, value?: Value) => void;

/**
 * express-session's `Store` base class as this module uses it: an
 * EventEmitter with `regenerate`, `load` and `createSession`, which
 * express-session calls and which work through `get`, `set` and `destroy`.
 */
export interface ExpressStoreBase extends EventEmitter {
  /** Destroys the request's session and generates a new one (`req.session.regenerate()`). */
  regenerate(request: object, callback: ExpressStoreCallback): void;
  /** Reads a session and makes a `Session` of it. */
  load<Data extends object = ExpressSessionData>(sid: string, callback: (error: unknown, session?: Data) => void): void;
  /** Makes express-session's `Session` object of stored data for a request. */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's `Session`, typed by the optional @types/express-session.
  createSession(request: object, data: ExpressSessionData): any;
}

const StoreBase = (expressSession as unknown as { Store: abstract new () => ExpressStoreBase }).Store;

/** A cookie's `expires` as ms since the epoch, or undefined when it has none (or not a date). */
function expiresOf(cookie: unknown): number | undefined {
  if (typeof cookie !== 'object' || cookie === null) return undefined;
  const expires = (cookie as { expires?: unknown }).expires;
  if (expires === null || expires === undefined || expires === false) return undefined;
  const at = new Date(expires as string | number | Date).getTime();
  return Number.isFinite(at) ? at : undefined;
}

/**
 * An express-session store on Redis, standalone or Cluster, that follows
 * express-session's Store contract and takes connect-redis's options, so
 * that moving from connect-redis is one line:
 *
 * - a session lives until its cookie's `expires` (or `ttl` for a cookie
 *   without one), never past the idle or absolute timeout when set; a save
 *   of a session whose cookie has already expired destroys it;
 * - `touch` stores the cookie (its new expiry) and renews the expiry;
 * - `get` returns the session as it was saved;
 * - any non-empty session id is accepted (express-session's `genid` may
 *   return anything), escaped in keys;
 * - every method takes a callback, or returns a Promise without one;
 *   `all`, `ids`, `length` and `clear` scan every master of a cluster.
 *
 * Beyond connect-redis: a save writes only the fields the request changed
 * since it read the session (`cookie` is a field like the others), so two
 * concurrent requests that change different fields both keep their change;
 * a session destroyed meanwhile (logout, `destroyAll`, `regenerate`) is not
 * written back, nor is one that expired; and sessions are indexed by user,
 * so that `store.sessions.destroyAll(userId)` logs a user out everywhere.
 * Redis errors go to express-session's callback, which passes them to
 * `next(err)`.
 *
 * @example
 * ```ts
 * import session from 'express-session'
 * import { RedkitSessionStore } from '@redkit/session/express'
 *
 * // Was: store: new RedisStore({ client, prefix: 'myapp:' }) from connect-redis
 * const store = new RedkitSessionStore({ redis, prefix: 'myapp:', idleTimeout: '30m', absoluteTimeout: '12h' })
 * app.use(session({
 *   store,
 *   secret: process.env.SESSION_SECRET!,
 *   resave: false,
 *   saveUninitialized: false,
 *   rolling: true,
 *   cookie: { maxAge: 30 * 60_000, httpOnly: true, secure: true, sameSite: 'lax' },
 * }))
 * app.post('/login', (req, res, next) =>
 *   req.session.regenerate((err) => {
 *     if (err) return next(err)
 *     req.session.userId = user.id // indexed: destroyAll(user.id) ends this session
 *     res.sendStatus(204)
 *   }))
 * app.post('/logout-everywhere', async (req, res) => {
 *   await store.sessions.destroyAll(req.session.userId)
 *   res.sendStatus(204)
 * })
 * ```
 */
export class RedkitSessionStore<Schema extends SessionSchema | undefined = undefined> extends StoreBase {
  /** The underlying store: `list(userId)`, `destroyAll(userId)` ("log out everywhere"), `rotate`, … */
  readonly sessions: SessionStore<Schema>;
  private readonly core: FrameworkSessions<Schema>;
  private readonly ttl: number | ((session: FrameworkSessionData) => number);
  private readonly disableTouch: boolean;
  /** What each request read: keyed by the object `get` returned, then by the `Session` made of it. */
  private readonly readOf = new WeakMap<object, FrameworkSnapshot>();

  /** @throws InvalidOptionsError naming the field when an option is wrong; nothing is written. */
  constructor(options: ExpressSessionStoreOptions<Schema>) {
    super();
    const parsed = parseExpressOptions(options, 'RedkitSessionStore');
    this.core = new FrameworkSessions({
      store: parsed.store,
      userId: parsed.userId,
      readCacheSize: parsed.readCacheSize,
      readCacheTtl: parsed.readCacheTtl,
      codec: parsed.serializer ? fieldCodec(parsed.serializer) : undefined,
      scanCount: parsed.scanCount,
    });
    this.sessions = this.core.sessions;
    this.ttl = parsed.ttl;
    this.disableTouch = parsed.disableTouch;
  }

  /**
   * Reads a session: the data as it was saved (its `cookie` included), or
   * null when there is none (never saved, expired or destroyed). `Data` is
   * the type your app gives session data (express-session's `SessionData`).
   */
  get<Data extends object = ExpressSessionData>(sid: string): Promise<Data | null>;
  get<Data extends object = ExpressSessionData>(sid: string, callback: ExpressValueCallback<Data | null>): void;
  get<Data extends object = ExpressSessionData>(
    sid: string,
    callback?: ExpressValueCallback<Data | null>,
  ): Promise<Data | null> | undefined {
    return respond(async () => {
      const read = await this.core.read(sid);
      if (read === null) return null;
      this.readOf.set(read.data, read.snapshot);
      return read.data as Data;
    }, callback);
  }

  /**
   * Makes express-session's `Session` of what `get` returned, and remembers
   * what this request read, so that `set` writes only the fields it changed.
   * A session saved without a cookie (by `SessionStore.create`, say) gets an
   * empty one here, as express-session cannot load a session without.
   */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's `Session`, typed by the optional @types/express-session.
  override createSession(request: object, data: ExpressSessionData): any {
    const snapshot = this.readOf.get(data);
    if (typeof data.cookie !== 'object' || data.cookie === null) data.cookie = {};
    const session = super.createSession(request, data);
    if (snapshot !== undefined && typeof session === 'object' && session !== null) this.readOf.set(session, snapshot);
    return session;
  }

  /**
   * Saves a session (an upsert) until its cookie expires (or for `ttl`),
   * bounded by the timeouts: the fields changed since this request read it,
   * or all of them for a new session. A session whose cookie has expired is
   * destroyed instead. A destroyed or expired session is not written back,
   * and that is not an error.
   */
  set(sid: string, session: ExpressSessionInput): Promise<void>;
  set(sid: string, session: ExpressSessionInput, callback: ExpressStoreCallback): void;
  set(sid: string, session: ExpressSessionInput, callback?: ExpressStoreCallback): Promise<void> | undefined {
    return respond(async () => {
      const ttl = this.ttlOf(session);
      if (ttl === 0) return this.core.destroy(sid);
      await this.core.write(sid, session, this.readOf.get(session), ttl);
    }, callback);
  }

  /**
   * Stores the session's cookie (its new expiry) and renews its expiry to
   * match, never past the timeouts; the other fields stay as stored. Does
   * nothing with `disableTouch`. A session that ended is not brought back.
   */
  touch(sid: string, session: ExpressSessionInput): Promise<void>;
  touch(sid: string, session: ExpressSessionInput, callback: ExpressStoreCallback): void;
  touch(sid: string, session: ExpressSessionInput, callback?: ExpressStoreCallback): Promise<void> | undefined {
    return respond(async () => {
      if (this.disableTouch) return;
      const ttl = this.ttlOf(session);
      if (ttl === 0) return this.core.destroy(sid);
      await this.core.touchCookie(sid, session, ttl);
    }, callback);
  }

  /** Destroys a session; a request of it still in flight cannot save it back. */
  destroy(sid: string): Promise<void>;
  destroy(sid: string, callback: ExpressStoreCallback): void;
  destroy(sid: string, callback?: ExpressStoreCallback): Promise<void> | undefined {
    return respond(() => this.core.destroy(sid), callback);
  }

  /**
   * Every live session's data, each with its `id`, as an array (as
   * connect-redis returns it). Scans every master: O(all sessions), for
   * admin use; per user, use `sessions.list(userId)`.
   */
  all<Data extends object = ExpressSessionData>(): Promise<(Data & { id: string })[]>;
  all<Data extends object = ExpressSessionData>(callback: ExpressValueCallback<(Data & { id: string })[]>): void;
  all<Data extends object = ExpressSessionData>(
    callback?: ExpressValueCallback<(Data & { id: string })[]>,
  ): Promise<(Data & { id: string })[]> | undefined {
    return respond(async () => (await this.core.all()) as (ListedFrameworkSession & Data)[], callback);
  }

  /** Every session id, once each. Scans every master: O(all sessions), for admin use. */
  ids(): Promise<string[]>;
  ids(callback: ExpressValueCallback<string[]>): void;
  ids(callback?: ExpressValueCallback<string[]>): Promise<string[]> | undefined {
    return respond(async () => {
      const ids: string[] = [];
      for await (const batch of this.core.ids()) ids.push(...batch);
      return ids;
    }, callback);
  }

  /** How many sessions there are. Scans every master: O(all sessions), for admin use. */
  length(): Promise<number>;
  length(callback: ExpressValueCallback<number>): void;
  length(callback?: ExpressValueCallback<number>): Promise<number> | undefined {
    return respond(() => this.core.count(), callback);
  }

  /**
   * Destroys every session of the store's namespace (each leaves a
   * tombstone, so a request in flight cannot save one back). Scans every
   * master: O(all sessions), for admin use; per user, use
   * `sessions.destroyAll(userId)`.
   */
  clear(): Promise<void>;
  clear(callback: ExpressStoreCallback): void;
  clear(callback?: ExpressStoreCallback): Promise<void> | undefined {
    return respond(() => this.core.clear(), callback);
  }

  /**
   * How long a save keeps the session, in ms, or 0 when it must not be kept:
   * `ttl(session)` when `ttl` is a function, else until the cookie expires,
   * else `ttl` seconds. (The SessionStore caps it by its timeouts.)
   */
  private ttlOf(session: ExpressSessionInput): number {
    let ms: number;
    if (typeof this.ttl === 'function') {
      const seconds = this.ttl(session as FrameworkSessionData);
      if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
        throw new InvalidOptionsError(
          [{ path: 'ttl', message: `returned ${String(seconds)}, not a number of seconds` }],
          {
            context: 'RedkitSessionStore',
          },
        );
      }
      ms = seconds * 1000;
    } else {
      const expires = expiresOf(session.cookie);
      ms = expires === undefined ? this.ttl * 1000 : expires - Date.now();
    }
    return ms <= 0 ? 0 : Math.min(Math.ceil(ms), this.sessions.ttl);
  }
}
