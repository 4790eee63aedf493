import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { APP_OPTIONS, type ResolvedAppOptions } from '../app-options.js';

export const productSchema = z.object({ id: z.number(), name: z.string(), price: z.number() });
export type Product = z.infer<typeof productSchema>;

/** Stands in for a database: slow, and it counts its queries so you can see the cache work. */
@Injectable()
export class ProductsRepository {
  private readonly rows = new Map<number, Product>([
    [1, { id: 1, name: 'Espresso machine', price: 349 }],
    [2, { id: 2, name: 'Grinder', price: 129 }],
    [3, { id: 3, name: 'Kettle', price: 59 }],
  ]);
  /** Queries run so far. */
  queries = 0;

  constructor(@Inject(APP_OPTIONS) private readonly options: ResolvedAppOptions) {}

  async findById(id: number): Promise<Product | undefined> {
    this.queries++;
    await new Promise((resolve) => setTimeout(resolve, this.options.queryDelayMs));
    return this.rows.get(id);
  }

  async save(product: Product): Promise<void> {
    this.queries++;
    await new Promise((resolve) => setTimeout(resolve, this.options.queryDelayMs));
    this.rows.set(product.id, product);
  }
}
