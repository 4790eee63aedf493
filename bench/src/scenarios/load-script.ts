import { driverFor, type RedisConnection } from '@redkit/core';

/**
 * SCRIPT LOAD on every master, so an EVALSHA never meets NOSCRIPT (a cluster
 * client would send a keyless SCRIPT LOAD to one random node only).
 * Returns the SHA1, checked to be the same everywhere.
 */
export async function loadOnEveryMaster(redis: RedisConnection, source: string): Promise<string> {
  const shas = new Set<string>();
  for (const master of await driverFor(redis).masters()) {
    shas.add(String(await master.command('SCRIPT', ['LOAD', source])));
  }
  if (shas.size !== 1) throw new Error(`SCRIPT LOAD returned different SHA1s: ${[...shas].join(', ')}`);
  return [...shas][0] as string;
}
