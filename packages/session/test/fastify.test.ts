import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { RedkitFastifySessionStore } from '@redkit/session/fastify';
import Fastify, { type FastifyPluginCallback, type FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';
import { describeFrameworkStore, fieldName, fieldsOf, type StartApp } from './http-sessions.js';

// The tests use a structural view of the session, so they need no plugin typings.
interface FastifySession {
  readonly sessionId: string;
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  regenerate(): Promise<void>;
}
type Query = Record<string, string | undefined>;
type Plugin = FastifyPluginCallback<Record<string, unknown>>;
const sessionOf = (request: FastifyRequest) => (request as unknown as { session: FastifySession }).session;
const queryOf = (request: FastifyRequest) => request.query as Query;

const me = (session: FastifySession) => ({
  sid: session.sessionId,
  userId: session.get('userId') ?? null,
  count: session.get('count') ?? null,
  fields: fieldsOf(session),
});

const startFastify =
  (sessionPlugin: Plugin, cookiePlugin: Plugin): StartApp =>
  async (sessions, probe) => {
    const store = new RedkitFastifySessionStore({ store: sessions });
    // Closing must not wait for the connection of a request the client aborted.
    const app = Fastify({ forceCloseConnections: true });
    app.setErrorHandler((error: Error, _request, reply) => reply.code(500).send({ error: error.message }));
    await app.register(cookiePlugin);
    await app.register(sessionPlugin, {
      store,
      secret: 'a test secret, not a real one, 32+ chars',
      saveUninitialized: false,
      cookie: { secure: false, maxAge: sessions.ttl, httpOnly: true, sameSite: 'lax' },
    });
    app.get('/me', async (request) => me(sessionOf(request)));
    app.post('/count', async (request) => {
      const session = sessionOf(request);
      session.set('count', ((session.get('count') as number | undefined) ?? 0) + 1);
      return { count: session.get('count') };
    });
    app.post('/login', async (request) => {
      // Rotate on login (session fixation): the old id is destroyed, a new one issued.
      await sessionOf(request).regenerate();
      const session = sessionOf(request);
      session.set('userId', queryOf(request).user);
      return { sid: session.sessionId };
    });
    app.post('/field', async (request) => {
      const query = queryOf(request);
      await sleep(Number(query.delay ?? 0));
      const session = sessionOf(request);
      session.set(fieldName(query.name), query.value);
      return { sid: session.sessionId };
    });
    app.post('/slow', async (request) => {
      await probe.hold();
      const query = queryOf(request);
      const session = sessionOf(request);
      session.set(fieldName(query.name), query.value);
      return { sid: session.sessionId };
    });
    app.post('/logout-everywhere', async (request) => ({
      destroyed: await store.sessions.destroyAll(sessionOf(request).get('userId') as string),
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, store, close: () => app.close() };
  };

describeFrameworkStore(
  '@fastify/session',
  startFastify(fastifySession as unknown as Plugin, fastifyCookie as unknown as Plugin),
);

const noop = () => undefined;

describe('@fastify/session store options', () => {
  it('has the methods @fastify/session calls, and the admin ones', () => {
    // Any object with a SessionStore's methods is accepted (another copy of the package, say).
    const sessions = { get: noop, getFields: noop, put: noop, touch: noop, destroy: noop, scanIds: noop } as never;
    const store = new RedkitFastifySessionStore({ store: sessions });
    expect(store.sessions).toBe(sessions);
    for (const method of ['get', 'set', 'destroy', 'all', 'length', 'clear'] as const) {
      expect(typeof store[method]).toBe('function');
    }
  });

  it('refuses a bad option, naming it', () => {
    expect(() => new RedkitFastifySessionStore({ store: {} as never })).toThrow(/store/);
    const sessions = { get: noop, getFields: noop, put: noop, touch: noop, destroy: noop, scanIds: noop } as never;
    expect(() => new RedkitFastifySessionStore({ store: sessions, readCacheSize: 0 })).toThrow(/readCacheSize/);
  });
});
