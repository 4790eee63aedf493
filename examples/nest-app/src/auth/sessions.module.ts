import { Global, Module } from '@nestjs/common';
import type { RedisConnection } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import { APP_OPTIONS, type ResolvedAppOptions } from '../app-options.js';
import { REDIS } from '../redis/redis.module.js';

/** Injection token of the app's @redkit/session `SessionStore` (also behind express-session, see app.ts). */
export const SESSIONS = Symbol('SESSIONS');

@Global()
@Module({
  providers: [
    {
      provide: SESSIONS,
      inject: [REDIS, APP_OPTIONS],
      useFactory: (redis: RedisConnection, options: ResolvedAppOptions) =>
        new SessionStore({
          redis,
          namespace: `${options.namespace}:sessions`,
          ttl: '30m', // idle timeout, renewed by each request (rolling cookie)
          absoluteTtl: '12h', // however active, log in again after 12 h
        }),
    },
  ],
  exports: [SESSIONS],
})
export class SessionsModule {}
