import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '@redkit/core';
import { Semaphore } from '@redkit/lock';
import { type Consumer, StreamQueue } from '@redkit/queue';
import { z } from 'zod';
import type { ServiceConfig } from '../config.js';
import type { Database } from '../db.js';

export const orderSchema = z.object({
  orderId: z.uuid(),
  userId: z.string(),
  productId: z.number().int().positive(),
  quantity: z.number().int().min(1).max(100),
});
export type Order = z.infer<typeof orderSchema>;

/** The database resource the workers' permits protect. */
export const databaseResource = 'orders-db';

/**
 * Orders are accepted at once (a message on a stream) and written to the
 * database later by workers. The workers share a semaphore: at most
 * `permits` of them touch the database at once, across every process. A
 * worker that finds no free permit does not wait: the queue puts the message
 * back with exponential backoff and the worker takes the next one.
 */
export class Orders {
  readonly queue;
  readonly semaphore;
  private consumers: Consumer<Order>[] = [];

  constructor(
    redis: RedisConnection,
    private readonly db: Database,
    private readonly config: ServiceConfig,
  ) {
    this.queue = new StreamQueue({
      redis,
      namespace: `${config.namespace}:queue`,
      stream: 'orders',
      schema: orderSchema,
    });
    // The lease outlasts any handler by far; a worker that dies gives its permit back when it expires.
    this.semaphore = new Semaphore({
      redis,
      namespace: `${config.namespace}:permits`,
      limit: config.orders.permits,
      ttl: '30s',
      // No waiter ever blocks on this semaphore (the queue uses tryAcquire), so no wake-up subscription.
      wakeUp: 'poll',
    });
  }

  /** Puts an order on the stream; the idempotency key makes a client's retry safe. */
  async place(
    order: Omit<Order, 'orderId'>,
    idempotencyKey?: string,
  ): Promise<{ orderId: string; duplicate: boolean }> {
    const orderId = randomUUID();
    const { duplicate } = await this.queue.add(
      { ...order, orderId },
      idempotencyKey ? { idempotencyKey: `${order.userId}:${idempotencyKey}` } : undefined,
    );
    return { orderId, duplicate };
  }

  /** The processed order, or undefined while it is still queued (or dead). */
  async find(orderId: string): Promise<Record<string, unknown> | undefined> {
    const [row] = await this.db.query(
      'SELECT id, user_id AS "userId", product_id AS "productId", quantity, processed_at AS "processedAt" FROM orders WHERE id = $1',
      [orderId],
    );
    return row;
  }

  /** Starts the in-process workers. */
  start(): void {
    const { orders } = this.config;
    for (let index = 0; index < orders.workers; index++) {
      this.consumers.push(
        this.queue.consume((order) => this.process(order), {
          group: 'order-writers',
          consumer: `worker-${process.pid}-${index}`,
          concurrency: orders.concurrency,
          maxDeliveries: orders.maxDeliveries,
          backoff: orders.backoffMs,
          promoteInterval: Math.max(50, Math.floor(orders.backoffMs.initial / 2)),
          blockMs: 1_000,
          throttle: {
            semaphore: this.semaphore,
            resource: databaseResource,
            backoff: { initial: 50, max: 1_000 },
          },
        }),
      );
    }
  }

  /** Runs with a database permit held (the queue's throttle took it). */
  private async process(order: Order): Promise<void> {
    await this.db.transaction(async (tx) => {
      const [product] = await tx.query<{ discontinued: boolean }>(
        'SELECT discontinued FROM products WHERE id = $1 FOR UPDATE',
        [order.productId],
      );
      // Thrown: retried with backoff, then dead-lettered after maxDeliveries attempts.
      if (!product) throw new Error(`unknown product ${order.productId}`);
      if (product.discontinued) throw new Error(`product ${order.productId} is discontinued`);
      // Delivery is at least once: a redelivered order finds its row already there (no row returned)
      // and must not take the stock a second time.
      const inserted = await tx.query(
        'INSERT INTO orders (id, user_id, product_id, quantity) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id',
        [order.orderId, order.userId, order.productId, order.quantity],
      );
      if (inserted.length === 0) return;
      await tx.query('UPDATE products SET stock = stock - $2 WHERE id = $1', [order.productId, order.quantity]);
      if (this.config.orders.workMs > 0) await new Promise((resolve) => setTimeout(resolve, this.config.orders.workMs));
    });
  }

  /** Stops the workers, giving running handlers up to `deadlineMs`. */
  async stop(deadlineMs = 2_000): Promise<void> {
    const consumers = this.consumers.splice(0);
    await Promise.all(consumers.map((consumer) => consumer.stop({ deadlineMs })));
  }

  async close(): Promise<void> {
    await this.stop();
    await this.semaphore.close();
  }
}
