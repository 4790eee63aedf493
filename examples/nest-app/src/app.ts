import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { SessionStore } from '@redkit/session';
import { RedkitSessionStore } from '@redkit/session/express';
import session from 'express-session';
import { AppModule } from './app.module.js';
import type { AppOptions } from './app-options.js';
import { SESSIONS } from './auth/sessions.module.js';

/**
 * Builds the app (not listening yet): Nest's modules, then express-session
 * with @redkit/session's store in front of every route, so the rate-limit
 * guard and the controllers see `req.session`.
 */
export async function createApp(
  options: AppOptions,
  nest: { logger?: false | ('log' | 'error' | 'warn')[] } = {},
): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    logger: nest.logger ?? ['log', 'error', 'warn'],
    forceCloseConnections: true, // close() ends keep-alive connections instead of waiting for them
  });
  const sessions = app.get<SessionStore>(SESSIONS);
  app.use(
    session({
      name: 'sid',
      store: new RedkitSessionStore({ store: sessions }), // the user is `req.session.userId`
      secret: options.sessionSecret,
      resave: false, // the store renews the idle timeout itself (touch)
      saveUninitialized: false, // no session, and no Redis write, until something is stored
      rolling: true,
      cookie: { maxAge: sessions.ttl, httpOnly: true, sameSite: 'lax', secure: options.secureCookies ?? false },
    }),
  );
  return app;
}
