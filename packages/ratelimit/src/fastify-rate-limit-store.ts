import {
  type CallOptions,
  defineScript,
  driverFor,
  escapeKeyPart,
  InvalidOptionsError,
  Keyspace,
  namespaceSchema,
  parseOptions,
  type RedisDriver,
  warnIfEvictable,
} from '@redkit/core';
import { z } from 'zod';
import { adapterStoreShape } from './adapter-store-options.js';
import incrementWindowSource from './scripts/increment-window.lua';
import readWindowSource from './scripts/read-window.lua';

const incrementWindow = defineScript<[number, number]>('increment-window', incrementWindowSource);
const readWindow = defineScript<[number, number]>('read-window', readWindowSource);

const storeOptionsSchema = z
  .object({
    ...adapterStoreShape,
    /** Key prefix: keys are `<namespace>:{<client key>}:<route>`. @default "fastify-rate-limit" */
    namespace: namespaceSchema.default('fastify-rate-limit'),
  })
  .strict();

/** Options of {@link createRateLimitStore}. */
export type RateLimitStoreOptions = z.input<typeof storeOptionsSchema>;

/** A client's count and window, as @fastify/rate-limit reads them. */
export interface RateLimitStoreResult {
  /** Hits in the current window, this one included. */
  current: number;
  /** Ms until the window ends. */
  ttl: number;
}

/** Callback of {@link RateLimitStore.incr} and {@link RateLimitStore.read}. */
export type RateLimitStoreCallback = (error: Error | null, result?: RateLimitStoreResult) => void;

/**
 * What the plugin passes to a store: its settings (the global ones to the
 * constructor, a route's merged ones to `child()`).
 */
export interface RateLimitStoreSettings {
  readonly continueExceeding?: boolean;
  readonly exponentialBackoff?: boolean;
  /** The route a child store counts for (`createRateLimit()` passes none). */
  readonly routeInfo?: { readonly method?: unknown; readonly url?: unknown };
}

/** A store instance, as @fastify/rate-limit uses it. */
export interface RateLimitStore {
  /** Counts one hit of `key` and reports its window. */
  incr(key: string | number, callback: RateLimitStoreCallback, timeWindow: number, max: number): void;
  /** Reports `key`'s window without counting (`createRateLimit()(req, { increment: false })`). */
  read(key: string | number, callback: RateLimitStoreCallback, timeWindow?: number, max?: number): void;
  /** The store of a route with its own `config.rateLimit`. */
  child(routeOptions: object): RateLimitStore;
}

/** What `store:` takes: a class the plugin instantiates with its settings. */
export type RateLimitStoreClass = new (settings: object) => RateLimitStore;

/** How a hit over `max` changes the window (see increment-window.lua). */
function modeOf(settings: RateLimitStoreSettings): 0 | 1 | 2 {
  if (settings.continueExceeding === true) return 1;
  return settings.exponentialBackoff === true ? 2 : 0;
}

function invalid(field: string, message: string): InvalidOptionsError {
  return new InvalidOptionsError([{ path: field, message }], { context: '@fastify/rate-limit store' });
}

/**
 * Builds a @fastify/rate-limit 10/11 store on Redis (standalone or Cluster):
 * pass the class it returns as `store`, in place of `redis`.
 *
 * It counts as the plugin's own `RedisStore` does, in one Lua script per hit
 * on the Redis clock: a window starts with a client's first hit and lasts
 * `timeWindow`; with `continueExceeding` each hit over `max` restarts it;
 * with `exponentialBackoff` the n-th hit over `max` sets it to
 * `timeWindow × 2^(n-1)`. Keys are `<namespace>:{<client key>}:<route>`, so
 * one script touches one cluster slot, and a route with its own
 * `config.rateLimit` counts apart, as with `RedisStore`.
 *
 * A Redis failure (or a call slower than `timeout`) reaches the plugin as an
 * error: with `skipOnError: false` (its default) the request fails, with
 * `skipOnError: true` it is let through.
 *
 * @example
 * ```ts
 * import rateLimit from '@fastify/rate-limit'
 * import { createRateLimitStore } from '@redkit/ratelimit/fastify'
 *
 * await app.register(rateLimit, { max: 100, timeWindow: '1 minute', store: createRateLimitStore({ redis }) })
 * ```
 */
export function createRateLimitStore(options: RateLimitStoreOptions): RateLimitStoreClass {
  const parsed = parseOptions(storeOptionsSchema, options, 'createRateLimitStore()');
  const driver: RedisDriver = driverFor(parsed.redis);
  const keyspace = new Keyspace(parsed.namespace);
  const callOptions: CallOptions | undefined = parsed.timeout === undefined ? undefined : { timeoutMs: parsed.timeout };
  // Evicted counters would silently reset limits.
  void warnIfEvictable(driver, '@fastify/rate-limit store');

  class RedkitRateLimitStore implements RateLimitStore {
    private readonly mode: '0' | '1' | '2';
    /** `:<route>` after the hash tag, escaped once. */
    private readonly suffix: string;

    constructor(settings: object, route?: string) {
      this.mode = String(modeOf(settings as RateLimitStoreSettings)) as '0' | '1' | '2';
      this.suffix = `:${route === undefined ? 'all' : escapeKeyPart(route)}`;
    }

    private key(key: string | number): string {
      if ((typeof key !== 'string' && typeof key !== 'number') || key === '') {
        throw invalid('key', 'must be a non-empty string or a number');
      }
      return keyspace.key(key) + this.suffix;
    }

    incr(key: string | number, callback: RateLimitStoreCallback, timeWindow: number, max: number): void {
      let redisKey: string;
      try {
        if (typeof timeWindow !== 'number' || !Number.isFinite(timeWindow) || timeWindow < 0) {
          throw invalid('timeWindow', 'must be a number of ms ≥ 0');
        }
        if (typeof max !== 'number' || !Number.isFinite(max) || max < 0) throw invalid('max', 'must be a number ≥ 0');
        redisKey = this.key(key);
      } catch (error) {
        callback(error as Error);
        return;
      }
      // Without continueExceeding or exponentialBackoff the script never reads max: the window alone is sent.
      const args = this.mode === '0' ? [Math.trunc(timeWindow)] : [Math.trunc(timeWindow), max, this.mode];
      driver
        .script(incrementWindow, [redisKey], args, callOptions)
        .then(([current, ttl]) => callback(null, { current, ttl }), callback);
    }

    read(key: string | number, callback: RateLimitStoreCallback): void {
      let redisKey: string;
      try {
        redisKey = this.key(key);
      } catch (error) {
        callback(error as Error);
        return;
      }
      driver
        .script(readWindow, [redisKey], [], callOptions)
        .then(([current, ttl]) => callback(null, { current, ttl }), callback);
    }

    child(routeOptions: object): RateLimitStore {
      const { routeInfo } = routeOptions as RateLimitStoreSettings;
      // As RedisStore: each route with its own settings counts apart; createRateLimit() ones share one count.
      const route =
        routeInfo?.method === undefined && routeInfo?.url === undefined
          ? 'custom'
          : `${String(routeInfo.method)} ${String(routeInfo.url)}`;
      return new RedkitRateLimitStore(routeOptions, route);
    }
  }
  return RedkitRateLimitStore;
}
