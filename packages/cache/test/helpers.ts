import { driverFor, type RedisConnection } from '@redkit/core';

export { keysOf, sleep } from '@redkit/testing';

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

/** How many keys under a namespace each master holds (one number on a single server). */
export async function keysPerMaster(redis: RedisConnection, namespace: string): Promise<number[]> {
  const counts: number[] = [];
  for (const master of await driverFor(redis).masters()) {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await master.command<[string, string[]]>('SCAN', [
        cursor,
        'MATCH',
        `${namespace}:*`,
        'COUNT',
        1000,
      ]);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    counts.push(count);
  }
  return counts;
}
