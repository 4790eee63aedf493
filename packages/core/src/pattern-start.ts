import type { z } from 'zod';
import { warnIfEvictable } from './capabilities.js';
import type { CallOptions, RedisDriver } from './driver.js';
import { driverFor, type RedisConnection } from './ioredis-driver.js';
import { parseOptions } from './options.js';
import { callOptions } from './pattern-options.js';

/** What a pattern's constructor starts from. */
export interface PatternStart<Options> {
  /** The parsed options, defaults applied. */
  readonly options: Options;
  /** The driver of `options.redis`. */
  readonly driver: RedisDriver;
  /** The per-call options of `options.timeout` (see {@link callOptions}). */
  readonly call: CallOptions | undefined;
}

/**
 * The start-up every pattern's constructor shares, in the order that keeps
 * bad input harmless: parse the options (throwing `InvalidOptionsError`
 * before anything touches Redis), take the client's driver, turn `timeout`
 * into call options and, for a pattern whose keys must not vanish, warn once
 * when the server's `maxmemory-policy` may evict them.
 *
 * @param start `context` names the constructor in errors, e.g. `"GeoIndex"`;
 *   `evictable` is the pattern named in the eviction warning (leave it out
 *   for a pattern whose keys may be evicted).
 * @example
 * ```ts
 * const { options, driver, call } = startPattern(geoIndexOptionsSchema, input, { context: 'GeoIndex', evictable: 'geo' })
 * ```
 */
export function startPattern<Schema extends z.ZodType<{ redis: RedisConnection; timeout?: number | undefined }>>(
  schema: Schema,
  input: unknown,
  start: { context: string; evictable?: string },
): PatternStart<z.output<Schema>> {
  const options = parseOptions(schema, input, start.context);
  const driver = driverFor(options.redis);
  if (start.evictable !== undefined) void warnIfEvictable(driver, start.evictable);
  return { options, driver, call: callOptions(options.timeout) };
}
