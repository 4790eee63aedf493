import { type RedisConnection, scanAll } from '@redkit/core';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every key under a namespace, on every master. */
export async function keysOf(redis: RedisConnection, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for await (const batch of scanAll(redis, `${namespace}:*`)) found.push(...batch);
  return found;
}

/** The server's clock in ms (the clock the limiter uses). */
export async function serverTime(redis: RedisConnection, key: string): Promise<number> {
  // Routed by key so a cluster asks the node that holds the subject.
  const [seconds, micros] = (await redis.eval("return redis.call('TIME')", 1, key)) as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
