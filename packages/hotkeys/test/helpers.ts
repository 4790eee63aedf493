import { type RedisConnection, scanAll } from '@redkit/core';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every key under a namespace, on every master. */
export async function keysOf(redis: RedisConnection, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for await (const batch of scanAll(redis, `${namespace}:*`)) found.push(...batch);
  return found.sort();
}

/** A fixed-seed random generator (mulberry32), so a failing case can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
