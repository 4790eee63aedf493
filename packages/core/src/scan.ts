import type { RedisDriver } from './driver.js';
import { driverFor, type RedisConnection } from './ioredis-driver.js';

export interface ScanOptions {
  /** SCAN COUNT hint per call. @default 500 */
  count?: number;
}

function isDriver(value: RedisConnection | RedisDriver): value is RedisDriver {
  return typeof (value as RedisDriver).masters === 'function' && typeof (value as RedisDriver).script === 'function';
}

/**
 * Iterates every key matching `pattern` on every master (a cluster's keys are
 * spread over all of them, and SCAN on one node sees only its own). Keys added
 * or removed during the scan may or may not be returned, as with SCAN itself.
 *
 * @example
 * ```ts
 * for await (const keys of scanAll(redis, 'shop:cache:{*')) await unlinkAll(keys)
 * ```
 */
export async function* scanAll(
  redis: RedisConnection | RedisDriver,
  pattern: string,
  options: ScanOptions = {},
): AsyncGenerator<string[], void, undefined> {
  const driver = isDriver(redis) ? redis : driverFor(redis);
  const count = options.count ?? 500;
  for (const master of await driver.masters()) {
    let cursor = '0';
    do {
      const [next, keys] = await master.command<[string, string[]]>('SCAN', [cursor, 'MATCH', pattern, 'COUNT', count]);
      cursor = String(next);
      if (keys.length > 0) yield keys.map(String);
    } while (cursor !== '0');
  }
}
