import { RedisUnavailableError } from '@redkit/core';
import { sleep } from './wait.js';

/**
 * Runs `call` until it stops failing with `RedisUnavailableError` (while a
 * cluster fails over, calls fail that way until the client has the new slot
 * map), or until `timeoutMs` has passed; any other error is thrown at once.
 *
 * @example
 * ```ts
 * await cluster.failover(master)
 * const value = await untilServed(() => redis.get('user:{42}:name'))
 * ```
 */
export async function untilServed<T>(call: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof RedisUnavailableError) || Date.now() >= deadline) throw error;
      await sleep(100);
    }
  }
}
