/**
 * @fastify/session store: `@redkit/session/fastify`.
 *
 * Typed structurally, so it needs no import of `@fastify/session`; the store
 * fits its `SessionStore` interface.
 *
 * @module
 */
import type { SessionSchema, SessionStore } from '@redkit/session';
import {
  FrameworkSessions,
  type FrameworkStoreOptions,
  type ListedFrameworkSession,
  settle,
} from './framework-store.js';

export type { ListedFrameworkSession } from './framework-store.js';

/** A session as @fastify/session hands it to a store and gets it back: its data fields and its `cookie`. */
export interface FastifySessionData {
  cookie?: unknown;
}

/** Callback of `set`, `destroy` and `clear`: `(error)` once done. */
export type FastifyStoreCallback = (error?: unknown) => void;

/**
 * Options of {@link RedkitFastifySessionStore}: the {@link SessionStore}, and
 * how to find the user in the session data.
 *
 * @example
 * ```ts
 * const options: FastifySessionStoreOptions = { store: sessions, userId: (session) => session.accountId as string }
 * ```
 */
export type FastifySessionStoreOptions<Schema extends SessionSchema | undefined = undefined> =
  FrameworkStoreOptions<Schema>;

/**
 * A @fastify/session store over a {@link SessionStore}: sessions with an
 * idle timeout (the store's `ttl`, renewed by every save; @fastify/session
 * saves on every request with `rolling: true`, its default) and an absolute
 * one (`absoluteTtl`), indexed by user so that
 * `store.sessions.destroyAll(userId)` logs a user out everywhere.
 *
 * A save writes only the fields that changed since this process last read
 * the session (`cookie` is a field like the others), so two concurrent
 * requests that change different fields both keep their change. A session
 * destroyed meanwhile (logout, `destroyAll`, `regenerate`) is not written
 * back, and one that expired is not brought back: the save is skipped
 * without an error, and the next request starts a new session. Redis errors
 * go to @fastify/session's callback, and the request fails with a 500.
 *
 * Set the cookie's `maxAge` to the store's `ttl` or `absoluteTtl`: the store
 * ends sessions by its own timeouts, whatever the cookie says.
 *
 * @example
 * ```ts
 * import fastifyCookie from '@fastify/cookie'
 * import fastifySession from '@fastify/session'
 * import { SessionStore } from '@redkit/session'
 * import { RedkitFastifySessionStore } from '@redkit/session/fastify'
 *
 * const sessions = new SessionStore({ redis, ttl: '30m', absoluteTtl: '12h' })
 * await app.register(fastifyCookie)
 * await app.register(fastifySession, {
 *   store: new RedkitFastifySessionStore({ store: sessions }),
 *   secret: process.env.SESSION_SECRET!, // 32 characters or more
 *   saveUninitialized: false,
 *   cookie: { maxAge: sessions.ttl, httpOnly: true, secure: true, sameSite: 'lax' },
 * })
 * app.post('/login', async (request) => {
 *   await request.session.regenerate()
 *   request.session.set('userId', user.id) // indexed: destroyAll(user.id) ends this session
 * })
 * app.post('/logout-everywhere', async (request) => {
 *   await sessions.destroyAll(request.session.get('userId'))
 * })
 * ```
 */
export class RedkitFastifySessionStore<Schema extends SessionSchema | undefined = undefined> {
  /** The underlying store: `list(userId)`, `destroyAll(userId)` ("log out everywhere"), `rotate`, … */
  readonly sessions: SessionStore<Schema>;
  private readonly core: FrameworkSessions<Schema>;

  /** @throws InvalidOptionsError naming the field when an option is wrong. */
  constructor(options: FastifySessionStoreOptions<Schema>) {
    this.core = FrameworkSessions.parse(options, 'RedkitFastifySessionStore');
    this.sessions = this.core.sessions;
  }

  /**
   * Reads a session: `callback(null, session)`, or `callback(null, null)`
   * when there is none (never created, expired or destroyed). `Data` is the
   * type your app gives session data (@fastify/session's `Session`).
   */
  get<Data extends object = FastifySessionData>(
    sessionId: string,
    callback: (error: unknown, session?: Data | null) => void,
  ): void {
    settle(async () => ((await this.core.read(sessionId))?.data ?? null) as Data | null, callback);
  }

  /**
   * Saves a session (an upsert): the fields changed since it was read, or
   * all of them for a new session. A destroyed or expired session is not
   * written, and that is not an error.
   */
  set(sessionId: string, session: FastifySessionData, callback: FastifyStoreCallback): void {
    settle(async () => {
      await this.core.write(sessionId, session);
    }, callback);
  }

  /** Destroys a session; a request of it still in flight cannot save it back. */
  destroy(sessionId: string, callback: FastifyStoreCallback): void {
    settle(() => this.core.destroy(sessionId), callback);
  }

  /**
   * Every live session's data, each with its `id`. Scans the keyspace:
   * O(all sessions), for admin use; per user, use `sessions.list(userId)`.
   * (Not called by @fastify/session; the same as express-session's `all`.)
   */
  all(callback: (error: unknown, sessions?: ListedFrameworkSession[]) => void): void {
    settle(() => this.core.all(), callback);
  }

  /** How many sessions there are. Scans the keyspace: O(all sessions), for admin use. */
  length(callback: (error: unknown, length?: number) => void): void {
    settle(() => this.core.count(), callback);
  }

  /**
   * Destroys every session of the store's namespace. Scans the keyspace:
   * O(all sessions), for admin use; per user, use `sessions.destroyAll(userId)`.
   */
  clear(callback?: FastifyStoreCallback): void {
    settle(() => this.core.clear(), callback);
  }
}
