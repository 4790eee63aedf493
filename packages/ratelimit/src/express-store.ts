import {
  defineScript,
  driverFor,
  InvalidOptionsError,
  Keyspace,
  namespaceSchema,
  parseOptions,
  type RedisDriver,
} from '@redkit/core';
import { z } from 'zod';
import { adapterStoreShape } from './adapter-store-options.js';
import decrementHitsSource from './scripts/decrement-hits.lua';
import getHitsSource from './scripts/get-hits.lua';
import incrementWindowSource from './scripts/increment-window.lua';

/** The fixed window that starts at a client's first hit; the @fastify/rate-limit store runs the same script. */
const incrementWindow = defineScript<[number, number]>('increment-window', incrementWindowSource);
const decrementHits = defineScript<number>('decrement-hits', decrementHitsSource);
const getHits = defineScript<[number, number] | []>('get-hits', getHitsSource);

const storeOptionsSchema = z
  .object({
    ...adapterStoreShape,
    /**
     * First part of every key (`<prefix>:{<client key>}`). Give each limiter
     * its own: two limiters with one prefix count the same hits.
     */
    prefix: namespaceSchema.default('rl'),
  })
  .strict();

/** Options of {@link RedkitStore}. */
export type RedkitStoreOptions = z.input<typeof storeOptionsSchema>;

/** What `init()` reads of express-rate-limit's options. */
const initSchema = z.object({
  windowMs: z
    .number({ message: 'must be a number of milliseconds' })
    .int('must be a whole number of milliseconds')
    .min(1, 'must be at least 1'),
});

/** A client's hits and when its window ends: express-rate-limit's `ClientRateLimitInfo`. */
export interface ClientRateLimitInfo {
  totalHits: number;
  resetTime: Date | undefined;
}

/**
 * A Redis store for express-rate-limit 7 and 8: pass it as `store` and keep
 * the rest of your configuration.
 *
 * Each client gets a fixed window that starts at its first hit and lasts
 * `windowMs` (as express-rate-limit's `MemoryStore` and `rate-limit-redis`
 * count). Every call is one atomic Lua script (EVALSHA, reloaded after
 * NOSCRIPT) on one key `<prefix>:{<client key>}`, so it works on a Redis
 * Cluster, and the window ends by Redis's clock (the key's expiry), not by
 * any app server's. Errors reach express-rate-limit, whose
 * `passOnStoreError` decides what a request gets when Redis is down.
 *
 * Throws `InvalidOptionsError` naming the field when an option is wrong.
 *
 * @example
 * ```ts
 * import { rateLimit } from 'express-rate-limit'
 * import { RedkitStore } from '@redkit/ratelimit/express'
 *
 * app.use(rateLimit({ windowMs: 60_000, limit: 100, store: new RedkitStore({ redis, prefix: 'api' }) }))
 * ```
 */
export class RedkitStore {
  /**
   * The key prefix. express-rate-limit reads it to tell two limiters that
   * count one request under different prefixes from a double count.
   */
  readonly prefix: string;
  /** Hits live in Redis, so two instances with one prefix share them (express-rate-limit's double-count check reads this). */
  readonly localKeys = false;
  private readonly driver: RedisDriver;
  private readonly keyspace: Keyspace;
  /** Per-call options: `{ timeoutMs }` when `timeout` was given, else none (the connection bounds calls). */
  private readonly callOptions: { timeoutMs: number } | undefined;
  private windowMs: number | undefined;

  constructor(options: RedkitStoreOptions) {
    const parsed = parseOptions(storeOptionsSchema, options, 'RedkitStore');
    this.prefix = parsed.prefix;
    this.keyspace = new Keyspace(parsed.prefix);
    this.driver = driverFor(parsed.redis);
    this.callOptions = parsed.timeout === undefined ? undefined : { timeoutMs: parsed.timeout };
  }

  /**
   * Called once by express-rate-limit with its options; the store keeps
   * `windowMs`. Throws `InvalidOptionsError` for a window that is not a
   * positive whole number of milliseconds.
   */
  init(options: { readonly windowMs: number }): void {
    this.windowMs = parseOptions(initSchema, { windowMs: options?.windowMs }, 'RedkitStore.init()').windowMs;
  }

  /** Counts one hit of `key` and returns the hits in its window, this one included. */
  increment(key: string): Promise<ClientRateLimitInfo> {
    // Not async: the hot path (one call per request) awaits a single promise.
    const windowMs = this.windowMs;
    if (windowMs === undefined) {
      return Promise.reject(
        new InvalidOptionsError([{ path: 'windowMs', message: 'is unknown: init() was not called' }], {
          context: 'RedkitStore.increment()',
        }),
      );
    }
    let counter: string;
    try {
      counter = this.keyOf(key, 'increment');
    } catch (error) {
      return Promise.reject(error);
    }
    // Only the window: without a mode the script does nothing special over the limit, as express-rate-limit counts.
    return this.driver.script(incrementWindow, [counter], [windowMs], this.callOptions).then(toInfo);
  }

  /** Takes one hit of `key` back (a request that should not count); never below zero, and never into a new window. */
  async decrement(key: string): Promise<void> {
    await this.driver.script(decrementHits, [this.keyOf(key, 'decrement')], [], this.callOptions);
  }

  /** The hits of `key` in its current window, or undefined when it has none. Counts nothing. */
  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const reply = await this.driver.script(getHits, [this.keyOf(key, 'get')], [], this.callOptions);
    return reply.length === 0 ? undefined : toInfo(reply);
  }

  /** Forgets `key`'s hits: its next request starts a new window. */
  async resetKey(key: string): Promise<void> {
    await this.driver.command('UNLINK', [this.keyOf(key, 'resetKey')], this.callOptions);
  }

  private keyOf(key: string, method: string): string {
    if (typeof key !== 'string' || key.length === 0 || key.length > 512) {
      throw new InvalidOptionsError([{ path: 'key', message: 'must be a string of 1 to 512 characters' }], {
        context: `RedkitStore.${method}()`,
      });
    }
    return this.keyspace.key(key);
  }
}

/**
 * The reply of increment-window or get-hits as express-rate-limit wants it.
 * express-rate-limit compares `resetTime` with this process's clock, so the
 * time left by Redis's clock is turned into a date on this one.
 */
function toInfo([totalHits, ttl]: [number, number]): ClientRateLimitInfo {
  return { totalHits, resetTime: ttl >= 0 ? new Date(Date.now() + ttl) : undefined };
}
