import { type RedisConnection, scanAll } from '@redkit/core';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every key under a namespace, on every master. */
export async function keysOf(redis: RedisConnection, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for await (const batch of scanAll(redis, `${namespace}:*`)) found.push(...batch);
  return found.sort();
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(20);
  }
}
