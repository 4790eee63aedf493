// An express app with express-session over a RedkitSessionStore, on
// express 5 or express 4 (the `express4` alias), for the Store contract
// tests over real HTTP (port 0, Node's fetch).
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { RedkitSessionStore } from '@redkit/session/express';
import { fieldName, type Probe } from './http-sessions.js';

// Neither @types/express nor @types/express-session is a dependency: a
// structural view of the part these tests use.
interface Cookie {
  expires: Date | null;
  maxAge: number | null;
  originalMaxAge: number | null;
}
interface ExpressSession {
  id: string;
  cookie: Cookie;
  destroy(callback: (error?: unknown) => void): void;
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
const session = require('express-session') as (options: Record<string, unknown>) => Handler;

/** The express majors the tests run on: the package under its own name (5) and the `express4` alias. */
export const expressMajors = [
  { name: 'express 5', load: () => require('express') as () => ExpressApp },
  { name: 'express 4', load: () => require('express4') as () => ExpressApp },
] as const;

export interface ExpressAppOptions {
  readonly express: () => ExpressApp;
  readonly store: RedkitSessionStore;
  readonly probe?: Probe;
  /** express-session's `cookie` option. @default { maxAge: 60_000 } */
  readonly cookie?: Record<string, unknown>;
  /** express-session's `genid`. */
  readonly genid?: () => string;
}

/**
 * Routes:
 *   GET  /me                  { sid, fields } (the session's fields but the cookie)
 *   POST /set?name=&value=    sets one field
 *   POST /slow?name=&value=   sets one field once the probe's gate opens
 *   POST /logout              req.session.destroy()
 *   POST /expire              sets one field, and the cookie's expiry in the past
 *   POST /cookie?maxAge=      changes only the cookie (a new maxAge): express-session touches
 */
export async function startExpressApp(options: ExpressAppOptions) {
  const { store, probe } = options;
  const app = options.express();
  app.use(
    session({
      store,
      secret: 'a test secret, not a real one',
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: options.cookie ?? { maxAge: 60_000 },
      ...(options.genid ? { genid: options.genid } : {}),
    }),
  );
  const fields = (req: Request) =>
    Object.fromEntries(Object.entries(req.session).filter(([name]) => name !== 'cookie'));
  app.get('/me', (req, res) => res.json({ sid: req.sessionID, fields: fields(req) }));
  app.post('/set', (req, res) => {
    req.session[fieldName(req.query.name)] = req.query.value;
    res.json({ sid: req.sessionID });
  });
  app.post('/slow', async (req, res) => {
    await probe?.hold();
    req.session[fieldName(req.query.name)] = req.query.value;
    res.json({ sid: req.sessionID });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error) => (error ? next(error) : res.json({ sid: req.sessionID })));
  });
  app.post('/expire', (req, res) => {
    req.session.expiring = 'yes';
    req.session.cookie.expires = new Date(Date.now() - 60_000);
    res.json({ sid: req.sessionID });
  });
  app.post('/cookie', (req, res) => {
    const maxAge = Number(req.query.maxAge);
    req.session.cookie.originalMaxAge = maxAge;
    req.session.cookie.maxAge = maxAge;
    res.json({ sid: req.sessionID });
  });
  app.use((error: Error, _req: Request, res: Response, _next: () => void) => {
    res.status(500).json({ error: error.message });
  });

  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
