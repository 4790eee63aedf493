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
import type { SessionSchema, SessionStore } from '@redkit/session';
// express-session ships no types and @types/express-session is optional (the base class is typed below).
// biome-ignore lint/suspicious/noTsIgnore: not @ts-expect-error, which would fail once @types/express-session is installed.
// @ts-ignore
import expressSession from 'express-session';
import { type FrameworkSessionData, FrameworkSessions, type FrameworkStoreOptions, settle } from './framework-store.js';

/** A session as express-session hands it to a store and gets it back: its data fields and its `cookie`. */
export interface ExpressSessionData {
  cookie?: unknown;
}

/** Callback of `set`, `destroy`, `touch` and `clear`: `(error)` once done. */
export type ExpressStoreCallback = (error?: unknown) => void;

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

/**
 * Options of {@link RedkitSessionStore}: the {@link SessionStore}, and how to
 * find the user in the session data.
 *
 * @example
 * ```ts
 * const options: ExpressSessionStoreOptions = { store: sessions, userId: (session) => session.accountId as string }
 * ```
 */
export type ExpressSessionStoreOptions<Schema extends SessionSchema | undefined = undefined> =
  FrameworkStoreOptions<Schema>;

/**
 * An express-session store over a {@link SessionStore}: sessions with an
 * idle timeout (the store's `ttl`, renewed by `touch` and by every save) and
 * an absolute one (`absoluteTtl`), indexed by user so that
 * `store.sessions.destroyAll(userId)` logs a user out everywhere.
 *
 * A save writes only the fields the request changed since it read the
 * session (`cookie` is a field like the others), so two concurrent requests
 * that change different fields both keep their change. A session destroyed
 * meanwhile (logout, `destroyAll`, `regenerate`) is not written back, and
 * one that expired is not brought back: the save is skipped without an
 * error, and the next request starts a new session. Redis errors go to
 * express-session's callback, which passes them to `next(err)`.
 *
 * Set the cookie's `maxAge` to the store's `ttl` (with `rolling: true`) or
 * `absoluteTtl`: the store ends sessions by its own timeouts, whatever the
 * cookie says.
 *
 * @example
 * ```ts
 * import session from 'express-session'
 * import { SessionStore } from '@redkit/session'
 * import { RedkitSessionStore } from '@redkit/session/express'
 *
 * const sessions = new SessionStore({ redis, ttl: '30m', absoluteTtl: '12h' })
 * app.use(session({
 *   store: new RedkitSessionStore({ store: sessions }),
 *   secret: process.env.SESSION_SECRET!,
 *   resave: false,
 *   saveUninitialized: false,
 *   rolling: true,
 *   cookie: { maxAge: sessions.ttl, httpOnly: true, secure: true, sameSite: 'lax' },
 * }))
 * app.post('/login', (req, res, next) =>
 *   req.session.regenerate((err) => {
 *     if (err) return next(err)
 *     req.session.userId = user.id // indexed: destroyAll(user.id) ends this session
 *     res.sendStatus(204)
 *   }))
 * app.post('/logout-everywhere', async (req, res) => {
 *   await sessions.destroyAll(req.session.userId)
 *   res.sendStatus(204)
 * })
 * ```
 */
export class RedkitSessionStore<Schema extends SessionSchema | undefined = undefined> extends StoreBase {
  /** The underlying store: `list(userId)`, `destroyAll(userId)` ("log out everywhere"), `rotate`, … */
  readonly sessions: SessionStore<Schema>;
  private readonly core: FrameworkSessions<Schema>;
  /** What each request read: keyed by the object `get` returned, then by the `Session` made of it. */
  private readonly readOf = new WeakMap<object, FrameworkSessionData>();

  /** @throws InvalidOptionsError naming the field when an option is wrong. */
  constructor(options: ExpressSessionStoreOptions<Schema>) {
    super();
    this.core = new FrameworkSessions(options, 'RedkitSessionStore');
    this.sessions = this.core.sessions;
  }

  /**
   * Reads a session: `callback(null, session)`, or `callback(null, null)`
   * when there is none (never created, expired or destroyed). `Data` is the
   * type your app gives session data (express-session's `SessionData`).
   */
  get<Data extends object = ExpressSessionData>(
    sid: string,
    callback: (error: unknown, session?: Data | null) => void,
  ): void {
    settle(async () => {
      const read = await this.core.read(sid);
      if (read === null) return null;
      const { data } = read;
      // express-session needs a cookie; a session made by SessionStore.create() has none.
      if (typeof data.cookie !== 'object' || data.cookie === null) data.cookie = {};
      this.readOf.set(data, read.snapshot);
      return data as Data;
    }, callback);
  }

  /**
   * Makes express-session's `Session` of what `get` returned, and remembers
   * what this request read, so that `set` writes only the fields it changed.
   */
  // biome-ignore lint/suspicious/noExplicitAny: express-session's `Session`, typed by the optional @types/express-session.
  override createSession(request: object, data: ExpressSessionData): any {
    const session = super.createSession(request, data);
    const snapshot = this.readOf.get(data);
    if (snapshot !== undefined && typeof session === 'object' && session !== null) this.readOf.set(session, snapshot);
    return session;
  }

  /**
   * Saves a session (an upsert): the fields changed since this request read
   * it, or all of them for a new session. A destroyed or expired session is
   * not written, and that is not an error.
   */
  set(sid: string, session: ExpressSessionData, callback?: ExpressStoreCallback): void {
    settle(async () => {
      await this.core.write(sid, session, this.readOf.get(session));
    }, callback);
  }

  /** Renews the session's idle expiry (the store's `ttl`, never past `absoluteTtl`). */
  touch(sid: string, _session: ExpressSessionData, callback?: ExpressStoreCallback): void {
    settle(async () => {
      await this.core.touch(sid);
    }, callback);
  }

  /** Destroys a session; a request of it still in flight cannot save it back. */
  destroy(sid: string, callback?: ExpressStoreCallback): void {
    settle(() => this.core.destroy(sid), callback);
  }

  /**
   * Every live session's data, each with its `id`, as an array. Scans the
   * keyspace: O(all sessions), for admin use; per user, use
   * `sessions.list(userId)`.
   */
  all<Data extends object = ExpressSessionData>(
    callback: (error: unknown, sessions?: Data[] | { [sid: string]: Data } | null) => void,
  ): void {
    settle(async () => (await this.core.all()) as unknown as Data[], callback);
  }

  /** How many sessions there are. Scans the keyspace: O(all sessions), for admin use. */
  length(callback: (error: unknown, length?: number) => void): void {
    settle(() => this.core.count(), callback);
  }

  /**
   * Destroys every session of the store's namespace. Scans the keyspace:
   * O(all sessions), for admin use; per user, use `sessions.destroyAll(userId)`.
   */
  clear(callback?: ExpressStoreCallback): void {
    settle(() => this.core.clear(), callback);
  }
}
