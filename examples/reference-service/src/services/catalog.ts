import { Cache } from '@redkit/cache';
import type { RedisConnection } from '@redkit/core';
import { z } from 'zod';
import type { ServiceConfig } from '../config.js';
import type { Database } from '../db.js';

export const productSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  priceCents: z.number().int(),
  stock: z.number().int(),
  discontinued: z.boolean(),
});
export type Product = z.infer<typeof productSchema>;

interface ProductRow {
  id: number;
  name: string;
  price_cents: number;
  stock: number;
  discontinued: boolean;
}

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  name: row.name,
  priceCents: row.price_cents,
  stock: row.stock,
  discontinued: row.discontinued,
});

/**
 * Products, read through the cache (cache-aside) and written through it.
 * Many requests for one missing product run one query, in this process and
 * across processes (the cache's lease); hot products are refreshed before
 * they expire, so their readers never wait for the database.
 */
export class Catalog {
  readonly cache;

  constructor(
    redis: RedisConnection,
    private readonly db: Database,
    config: ServiceConfig,
  ) {
    this.cache = new Cache({
      redis,
      namespace: `${config.namespace}:products`,
      ttl: config.cache.ttlMs,
      // Stale values are served (and refreshed in the background) for a while, and when the database fails.
      grace: config.cache.graceMs,
      refreshAhead: { fraction: 0.8 },
      // "Not found" is cached briefly, so a scan of bad ids does not reach the database every time.
      negativeTtl: 5_000,
      schema: productSchema,
    });
  }

  /** The product and whether this call loaded it from the database (a miss). */
  async get(id: number): Promise<{ product: Product | undefined; loaded: boolean }> {
    let loaded = false;
    const product: Product | undefined = await this.cache.getOrSet(`product:${id}`, async () => {
      loaded = true;
      return this.load(this.db, id);
    });
    return { product, loaded };
  }

  /**
   * Changes a product: the database first, then the cache with a version
   * newer than any load in flight, so no reader sees the old price again.
   */
  async update(
    id: number,
    patch: { name?: string | undefined; priceCents?: number | undefined },
  ): Promise<Product | undefined> {
    const current = await this.load(this.db, id);
    if (!current) return undefined;
    const next: Product = { ...current, ...definedOnly(patch) };
    await this.cache.writeThrough(`product:${id}`, next, (product) =>
      this.db.query('UPDATE products SET name = $2, price_cents = $3 WHERE id = $1', [
        product.id,
        product.name,
        product.priceCents,
      ]),
    );
    return next;
  }

  private async load(db: Pick<Database, 'query'>, id: number): Promise<Product | undefined> {
    const [row] = await db.query<ProductRow>(
      'SELECT id, name, price_cents, stock, discontinued FROM products WHERE id = $1',
      [id],
    );
    return row ? toProduct(row) : undefined;
  }

  close(): Promise<void> {
    return this.cache.close();
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
