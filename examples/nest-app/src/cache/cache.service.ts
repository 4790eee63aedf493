import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Cache, type CacheOptions, type StandardSchema } from '@redkit/cache';
import type { RedisConnection } from '@redkit/core';
import { REDIS } from '../redis/redis.module.js';

/**
 * Makes @redkit/cache `Cache`s on the app's Redis connection, and closes them
 * when the app shuts down (before the connection is closed).
 *
 * @example
 * ```ts
 * this.products = caches.create({ namespace: 'products', ttl: '5m', schema: productSchema });
 * ```
 */
@Injectable()
export class CacheService implements OnModuleDestroy {
  private readonly caches: Cache<StandardSchema | undefined>[] = [];

  constructor(@Inject(REDIS) private readonly redis: RedisConnection) {}

  create<Schema extends StandardSchema | undefined = undefined>(
    options: Omit<CacheOptions<Schema>, 'redis'>,
  ): Cache<Schema> {
    const cache = new Cache<Schema>({ ...options, redis: this.redis } as CacheOptions<Schema>);
    this.caches.push(cache as unknown as Cache<StandardSchema | undefined>);
    return cache;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.caches.map((cache) => cache.close()));
  }
}
