import { type DynamicModule, Module } from '@nestjs/common';
import type { RedisConnection } from '@redkit/core';
import { RateLimiter } from '@redkit/ratelimit';
import { byUser, RateLimitModule } from '@redkit/ratelimit/nest';
import { APP_OPTIONS, type AppOptions, type ResolvedAppOptions, resolveAppOptions } from './app-options.js';
import { AuthModule } from './auth/auth.module.js';
import { SessionsModule } from './auth/sessions.module.js';
import { CacheModule } from './cache/cache.module.js';
import { HealthController } from './health/health.controller.js';
import type { AppRequest } from './http-request.js';
import { ProductsModule } from './products/products.module.js';
import { REDIS, RedisModule } from './redis/redis.module.js';

@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; this one is configured statically.
export class AppModule {
  static forRoot(appOptions: AppOptions): DynamicModule {
    const options = resolveAppOptions(appOptions);
    return {
      module: AppModule,
      global: true, // APP_OPTIONS for every module
      imports: [
        RedisModule.forRoot(options.redisUrl),
        CacheModule,
        SessionsModule,
        // Every route is limited per user when logged in, per IP otherwise (the guard is global).
        RateLimitModule.forRootAsync<AppRequest>({
          inject: [REDIS, APP_OPTIONS],
          useFactory: (redis: RedisConnection, resolved: ResolvedAppOptions) => ({
            limiter: new RateLimiter({
              redis,
              namespace: `${resolved.namespace}:ratelimit`,
              policies: [
                { name: 'minute', algorithm: 'sliding-window', limit: resolved.requestsPerMinute, window: '1m' },
              ],
            }),
            key: byUser((req) => req.session?.userId),
          }),
        }),
        ProductsModule,
        AuthModule,
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_OPTIONS, useValue: options }],
      exports: [APP_OPTIONS],
    };
  }
}
