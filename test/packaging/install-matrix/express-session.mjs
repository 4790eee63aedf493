// express-session with RedkitSessionStore: a login sets the cookie, the next request reads the session back.
import { RedkitSessionStore } from '@redkit/session/express';
import express from 'express';
import session from 'express-session';
import { listenExpress, namespace, redis, report, request, versionOf } from './app-kit.mjs';

const store = new RedkitSessionStore({ redis, prefix: `${namespace}:` });
const app = express();
app.use(
  session({
    store,
    secret: 'an install-matrix secret, not a real one',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 60_000 },
  }),
);
app.post('/login', (req, res) => {
  req.session.user = 'ada';
  res.json({ id: req.sessionID });
});
app.get('/me', (req, res) => res.json({ user: req.session.user ?? null }));
const server = await listenExpress(app);
const login = await request(`${server.url}/login`, { method: 'POST' });
const me = await request(`${server.url}/me`, { headers: { cookie: login.cookies.join('; ') } });
const anonymous = await request(`${server.url}/me`);
// The session is in Redis: a second store on the same prefix reads it.
const reader = new RedkitSessionStore({ redis, prefix: `${namespace}:` });
const stored = await reader.get(login.body.id);
await server.close();
report({
  versions: { express: versionOf('express'), 'express-session': versionOf('express-session') },
  cookieNames: login.cookies.map((cookie) => cookie.split('=')[0]),
  me: me.body,
  anonymous: anonymous.body,
  stored: { user: stored?.user, maxAge: stored?.cookie?.originalMaxAge },
  ids: await reader.ids(),
  sessionId: login.body.id,
});
