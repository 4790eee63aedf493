import { once } from 'node:events';
import { type DynamicModule, Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { connect, type RedisConnection } from '@redkit/core';

/** Injection token of the app's one Redis connection (an ioredis `Redis` or `Cluster`). */
export const REDIS = Symbol('REDIS');

/**
 * Closes the connection when the app shuts down. `onApplicationShutdown`
 * runs after every `onModuleDestroy`, so the cache and the sessions are
 * done with the connection by then.
 */
@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: RedisConnection) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status === 'end') return;
    const ended = once(this.redis, 'end');
    await this.redis.quit(); // resolves on the server's reply; the socket closes just after
    await ended;
  }
}

/** One Redis connection for the whole app, injectable anywhere as `REDIS`. */
@Global()
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; this one is configured statically.
export class RedisModule {
  static forRoot(url: string): DynamicModule {
    return {
      module: RedisModule,
      providers: [{ provide: REDIS, useFactory: () => connect(url) }, RedisShutdown],
      exports: [REDIS],
    };
  }
}
