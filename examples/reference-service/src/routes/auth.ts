import { byIp, rateLimit } from '@redkit/ratelimit/express';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { HttpError, parse, requireUser, userOf } from '../http.js';
import type { Services } from '../services/index.js';

const credentials = z.object({ username: z.string().min(1).max(100), password: z.string().min(1).max(200) });

/** Login, logout and "log out everywhere": sessions in Redis, so any instance answers any request. */
export function authRoutes({ accounts, limiters }: Services): Router {
  const router = Router();
  // Password guessing is limited per client address, before any session exists.
  const loginLimit = rateLimit<Request>({ limiter: limiters.login, key: byIp() });

  router.post('/login', loginLimit, async (req, res) => {
    const { username, password } = parse(credentials, req.body);
    const user = await accounts.authenticate(username, password);
    if (!user) throw new HttpError(401, 'wrong username or password');
    // A new session id at login, so an id planted before it is worthless (session fixation).
    await new Promise<void>((resolve, reject) =>
      req.session.regenerate((error) => (error ? reject(error) : resolve())),
    );
    req.session.userId = user.id;
    req.session.role = user.role;
    res.json({ user });
  });

  router.post('/logout', async (req, res) => {
    await new Promise<void>((resolve, reject) => req.session.destroy((error) => (error ? reject(error) : resolve())));
    res.status(204).end();
  });

  router.post('/logout-everywhere', requireUser, async (req, res) => {
    const ended = await accounts.logoutEverywhere(userOf(req));
    res.json({ ended });
  });

  router.get('/me', requireUser, async (req, res) => {
    const userId = userOf(req);
    res.json({ user: { id: userId, role: req.session.role }, sessions: await accounts.devices(userId) });
  });

  return router;
}
