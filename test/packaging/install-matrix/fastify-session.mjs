// @fastify/session with RedkitFastifySessionStore: a login sets the cookie, the next request reads the session back.
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { SessionStore } from '@redkit/session';
import { RedkitFastifySessionStore } from '@redkit/session/fastify';
import Fastify from 'fastify';
import { namespace, redis, report, request, versionOf } from './app-kit.mjs';

const sessions = new SessionStore({ redis, namespace, ttl: '1m' });
const app = Fastify();
await app.register(fastifyCookie);
await app.register(fastifySession, {
  store: new RedkitFastifySessionStore({ store: sessions }),
  secret: 'an install-matrix secret, not a real one',
  saveUninitialized: false,
  cookie: { secure: false, maxAge: 60_000 },
});
app.post('/login', async (req) => {
  req.session.set('user', 'ada');
  return { id: req.session.sessionId };
});
app.get('/me', async (req) => ({ user: req.session.get('user') ?? null }));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const login = await request(`${url}/login`, { method: 'POST' });
const me = await request(`${url}/me`, { headers: { cookie: login.cookies.join('; ') } });
const anonymous = await request(`${url}/me`);
await app.close();
// The session is in Redis: a second SessionStore on the same namespace reads it.
const stored = await new SessionStore({ redis, namespace }).get(login.body.id);
report({
  versions: { fastify: versionOf('fastify'), '@fastify/session': versionOf('@fastify/session') },
  cookieNames: login.cookies.map((cookie) => cookie.split('=')[0]),
  me: me.body,
  anonymous: anonymous.body,
  stored: stored?.data.user ?? null,
});
