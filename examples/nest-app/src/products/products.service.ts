import { Inject, Injectable } from '@nestjs/common';
import type { Cache } from '@redkit/cache';
import { APP_OPTIONS, type ResolvedAppOptions } from '../app-options.js';
import { CacheService } from '../cache/cache.service.js';
import { type Product, ProductsRepository, productSchema } from './products.repository.js';

/** Products, read through the cache: one query per product per 5 minutes, however many requests. */
@Injectable()
export class ProductsService {
  private readonly cache: Cache<typeof productSchema>;

  constructor(
    @Inject(CacheService) caches: CacheService,
    @Inject(ProductsRepository) private readonly repository: ProductsRepository,
    @Inject(APP_OPTIONS) options: ResolvedAppOptions,
  ) {
    this.cache = caches.create({
      namespace: `${options.namespace}:products`,
      ttl: '5m',
      grace: '1h', // serve a stale product while it is reloaded, or while the database is down
      negativeTtl: '30s', // an unknown id is remembered too, so it cannot hammer the database
      schema: productSchema,
    });
  }

  /** The product, or `undefined` when there is none. Concurrent misses run one query. */
  find(id: number): Promise<Product | undefined> {
    return this.cache.getOrSet(`product:${id}`, () => this.repository.findById(id));
  }

  /** Saves to the database, then the cache (write-through), so the next read is fresh. */
  async updatePrice(id: number, price: number): Promise<Product | undefined> {
    const current = await this.find(id);
    if (!current) return undefined;
    const updated = { ...current, price };
    await this.cache.writeThrough(`product:${id}`, updated, () => this.repository.save(updated));
    return updated;
  }
}
