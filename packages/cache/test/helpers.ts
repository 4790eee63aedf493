import { type RedisConnection, scanAll } from '@redkit/core';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every key under a namespace, on every master. */
export async function keysOf(redis: RedisConnection, namespace: string): Promise<string[]> {
  const found: string[] = [];
  for await (const batch of scanAll(redis, `${namespace}:*`)) found.push(...batch);
  return found.sort();
}

/** Resolves with the first event payload that matches, or rejects after `ms`. */
export function nextEvent<Payload>(
  on: (listener: (payload: Payload) => void) => () => void,
  matches: (payload: Payload) => boolean = () => true,
  ms = 5_000,
): Promise<Payload> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching event within ${ms} ms`));
    }, ms);
    const off = on((payload) => {
      if (!matches(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}
