import { driverFor, type RedisConnection } from '@redkit/core';

export { eventually, keysOf, nextEvent, sleep, waitFor } from '@redkit/testing';

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
