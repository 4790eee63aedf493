import type { RedisConnection } from '@redkit/core';

export { keysOf, sleep } from '@redkit/testing';

/** The server's clock in ms (the clock the limiter uses). */
export async function serverTime(redis: RedisConnection, key: string): Promise<number> {
  // Routed by key so a cluster asks the node that holds the subject.
  const [seconds, micros] = (await redis.eval("return redis.call('TIME')", 1, key)) as [string, string];
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
