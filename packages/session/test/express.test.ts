import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { SessionStore } from '@redkit/session';
import { RedkitSessionStore } from '@redkit/session/express';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';
import { Browser, describeFrameworkStore, fieldName, fieldsOf, Probe, type StartApp } from './http-sessions.js';

// Neither @types/express nor @types/express-session is a dependency: a
// structural view of the part these tests use.
interface ExpressSession {
  id: string;
  regenerate(callback: (error?: unknown) => void): void;
  [field: string]: unknown;
}
interface Request extends IncomingMessage {
  session: ExpressSession;
  sessionID: string;
  query: Record<string, string | undefined>;
}
interface Response extends ServerResponse {
  status(code: number): Response;
  json(body: unknown): void;
}
type Handler = (req: Request, res: Response, next: (error?: unknown) => void) => unknown;
type ErrorHandler = (error: Error, req: Request, res: Response, next: () => void) => void;
interface ExpressApp extends RequestListener {
  get(path: string, handler: Handler): void;
  post(path: string, handler: Handler): void;
  use(handler: Handler | ErrorHandler): void;
}
const require = createRequire(import.meta.url);
const express = require('express') as () => ExpressApp;
const session = require('express-session') as (options: Record<string, unknown>) => Handler;

const me = (req: Request) => ({
  sid: req.sessionID,
  userId: req.session.userId ?? null,
  count: req.session.count ?? null,
  fields: fieldsOf(req.session),
});

const startExpress: StartApp = async (sessions, probe) => {
  const store = new RedkitSessionStore({ store: sessions });
  const app = express();
  app.use(
    session({
      store,
      secret: 'a test secret, not a real one',
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { maxAge: sessions.ttl, httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.get('/me', (req, res) => res.json(me(req)));
  app.post('/count', (req, res) => {
    req.session.count = ((req.session.count as number | undefined) ?? 0) + 1;
    res.json({ count: req.session.count });
  });
  app.post('/login', (req, res, next) => {
    // Rotate on login (session fixation): the old id is destroyed, a new one issued.
    req.session.regenerate((error) => {
      if (error) return next(error);
      req.session.userId = req.query.user;
      res.json({ sid: req.sessionID });
    });
  });
  app.post('/field', async (req, res) => {
    await sleep(Number(req.query.delay ?? 0));
    req.session[fieldName(req.query.name)] = req.query.value;
    res.json({ sid: req.sessionID });
  });
  app.post('/slow', async (req, res) => {
    await probe.hold();
    req.session[fieldName(req.query.name)] = req.query.value;
    res.json({ sid: req.sessionID });
  });
  app.post('/logout-everywhere', async (req, res) => {
    const destroyed = await store.sessions.destroyAll(req.session.userId as string);
    res.json({ destroyed });
  });
  app.use((error: Error, _req: Request, res: Response, _next: () => void) => {
    res.status(500).json({ error: error.message });
  });

  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};

describeFrameworkStore('express-session', startExpress);

describeTopologies('express-session store: a save compares with what its own request read', (t) => {
  it('a slow request does not undo a change saved by a request that started after it', async () => {
    const sessions = new SessionStore({ redis: t.redis, namespace: t.namespace });
    const probe = new Probe();
    const app = await startExpress(sessions, probe);
    try {
      const user = new Browser(app.url);
      await user.login('gina');
      await user.post('/count');
      // The slow request read count = 1 and will set `a`.
      const slow = user.post('/slow?name=a&value=1');
      await probe.entered;
      expect(await user.post('/count')).toMatchObject({ count: 2 });
      // This process's latest read of the session now has count = 2; the slow request's has 1.
      await user.post('/field?name=b&value=2');
      probe.open();
      await slow;
      expect(await user.me()).toMatchObject({ userId: 'gina', count: 2, fields: { a: '1', b: '2' } });
    } finally {
      await app.close();
    }
  });
});

const noop = () => undefined;

describe('express-session store options', () => {
  it('is an express-session Store (an EventEmitter with regenerate, load and createSession)', () => {
    const { Store } = require('express-session') as { Store: new () => object };
    // Any object with a SessionStore's methods is accepted (another copy of the package, say).
    const sessions = { get: noop, getFields: noop, put: noop, touch: noop, destroy: noop, scanIds: noop } as never;
    const store = new RedkitSessionStore({ store: sessions });
    expect(store).toBeInstanceOf(Store);
    expect(store.sessions).toBe(sessions);
    for (const method of ['get', 'set', 'destroy', 'touch', 'all', 'length', 'clear', 'regenerate', 'load']) {
      expect(typeof (store as unknown as Record<string, unknown>)[method]).toBe('function');
    }
  });

  it('refuses a bad option, naming it', () => {
    expect(() => new RedkitSessionStore({ store: {} as never })).toThrow(/store/);
    const sessions = { get: noop, getFields: noop, put: noop, touch: noop, destroy: noop, scanIds: noop } as never;
    expect(() => new RedkitSessionStore({ store: sessions, readCacheTtl: -1 })).toThrow(/readCacheTtl/);
  });
});
