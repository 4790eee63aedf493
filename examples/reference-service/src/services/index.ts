import type { RedisConnection } from '@redkit/core';
import type { ServiceConfig } from '../config.js';
import type { Database } from '../db.js';
import { Metrics } from '../metrics.js';
import { Accounts } from './accounts.js';
import { Catalog } from './catalog.js';
import { createLimiters, type Limiters } from './limits.js';
import { Orders } from './orders.js';
import { Scores } from './scores.js';
import { Stores } from './stores.js';

/** Everything the HTTP layer uses; built once per process from one Redis connection and one database. */
export interface Services {
  readonly config: ServiceConfig;
  readonly redis: RedisConnection;
  readonly db: Database;
  readonly metrics: Metrics;
  readonly catalog: Catalog;
  readonly accounts: Accounts;
  readonly limiters: Limiters;
  readonly orders: Orders;
  readonly scores: Scores;
  readonly stores: Stores;
  /** Stops the workers and closes what the patterns opened (not `redis` or `db`: the caller owns them). */
  close(): Promise<void>;
}

/** Builds the patterns, wires their telemetry into the metrics, loads Redis-side indexes from SQL and starts the workers. */
export async function createServices(redis: RedisConnection, db: Database, config: ServiceConfig): Promise<Services> {
  const metrics = new Metrics();
  const catalog = new Catalog(redis, db, config);
  const accounts = new Accounts(redis, db, config);
  const limiters = createLimiters(redis, config);
  const orders = new Orders(redis, db, config);
  const scores = new Scores(redis, db, config);
  const stores = new Stores(redis, db, config);

  metrics.watchCache(catalog.cache.events);
  for (const [name, limiter] of Object.entries(limiters)) metrics.watchLimiter(name, limiter.events);
  metrics.watchQueue(orders.queue.events);
  metrics.watchSemaphore(orders.semaphore.events);

  await Promise.all([scores.load(), stores.load()]);
  orders.start();

  return {
    config,
    redis,
    db,
    metrics,
    catalog,
    accounts,
    limiters,
    orders,
    scores,
    stores,
    async close() {
      await orders.close();
      await catalog.close();
      metrics.close();
    },
  };
}
