import { byUser, rateLimit } from '@redkit/ratelimit/express';
import { RedkitSessionStore } from '@redkit/session/express';
import express, { type Express, type Request } from 'express';
import session from 'express-session';
import type { LiveDashboard } from './dashboard.js';
import { errorHandler } from './http.js';
import { adminRoutes } from './routes/admin.js';
import { authRoutes } from './routes/auth.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { leaderboardRoutes } from './routes/leaderboard.js';
import { orderRoutes } from './routes/orders.js';
import { productRoutes } from './routes/products.js';
import { storeRoutes } from './routes/stores.js';
import type { Services } from './services/index.js';

export interface AppDeps {
  services: Services;
  dashboard: LiveDashboard;
}

/**
 * The HTTP layer, built from injected services so tests and the demo share
 * it. It keeps no state of its own: sessions, limits, cache and queue all
 * live in Redis, so any number of copies can run behind a load balancer.
 */
export function createApp({ services, dashboard }: AppDeps): Express {
  const app = express();
  // One trusted hop (a reverse proxy); req.ip is then the client, which the login limit keys on.
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));

  // Not limited: health checks and the dashboard are declared before the API limit.
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(dashboardRoutes(dashboard));

  app.use(
    session({
      store: new RedkitSessionStore({ store: services.accounts.sessions }),
      secret: services.config.sessionSecret,
      resave: false,
      saveUninitialized: false,
      rolling: true,
      name: 'sid',
      // secure: true behind HTTPS; the demo serves plain HTTP on loopback.
      cookie: { maxAge: services.accounts.sessions.ttl, httpOnly: true, sameSite: 'lax' },
    }),
  );
  // Every API route: per user when logged in, per client address otherwise.
  app.use(rateLimit<Request>({ limiter: services.limiters.api, key: byUser((req) => req.session.userId) }));

  app.use(authRoutes(services));
  app.use(productRoutes(services));
  app.use(leaderboardRoutes(services));
  app.use(storeRoutes(services));
  app.use(orderRoutes(services));
  app.use(adminRoutes(services));
  app.use(errorHandler);
  return app;
}
