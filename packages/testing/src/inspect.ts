import { type RedisConnection, scanAll } from '@redkit/core';

/**
 * Every key under `namespace`, on every master of a cluster, sorted: what a
 * test compares after a call that must write nothing (bad input) or must
 * clean up after itself.
 *
 * @example
 * ```ts
 * await expect(cache.set('', 1)).rejects.toThrow(InvalidOptionsError)
 * expect(await keysOf(redis, 'test')).toEqual([])
 * ```
 */
export async function keysOf(redis: RedisConnection, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for await (const batch of scanAll(redis, `${namespace}:*`)) found.push(...batch);
  return found.sort();
}

/**
 * A random number generator with a fixed seed (mulberry32), for randomized
 * tests whose failing case can be replayed from the seed.
 *
 * @example
 * ```ts
 * const next = seededRandom(42)
 * const member = `m${Math.floor(next() * 1000)}`
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
