/**
 * The consumer's blocking XREADGROUP: the dedicated connection it runs on
 * (no command timeout, so a read meant to wait `blockMs` is not cut short)
 * and the parsing of its reply, whose shape differs between RESP2 and RESP3.
 */
import { isCluster, type RedisConnection } from '@redkit/core';
import type { RawFields } from './scripts.js';

/** One entry of a read: its id and its fields as the server sent them. */
type Entry = [id: string, fields: RawFields | null];

/**
 * The entries of an XREADGROUP reply of one stream, whatever its shape: RESP2
 * `[[key, entries]]`, RESP3's map (an object, or `[key, entries]` flattened).
 */
export function streamEntries(reply: unknown): Entry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    if (reply.length === 0) return [];
    if (typeof reply[0] === 'string' || Buffer.isBuffer(reply[0])) {
      const entries: Entry[] = [];
      for (let index = 1; index < reply.length; index += 2) entries.push(...(reply[index] as Entry[]));
      return entries;
    }
    return (reply as [string, Entry[]][]).flatMap(([, entries]) => entries ?? []);
  }
  if (typeof reply === 'object') return Object.values(reply as Record<string, Entry[]>).flat();
  return [];
}

/**
 * A blocking read needs its own connection, and that connection must not time
 * out a read that is meant to wait `blockMs`: the command timeout is dropped
 * and each read gets its own deadline instead.
 */
export function duplicateForBlocking(redis: RedisConnection): RedisConnection {
  const connection = isCluster(redis)
    ? (redis.duplicate as (nodes: unknown[], options: object) => RedisConnection).call(redis, [], {
        redisOptions: { commandTimeout: undefined },
      })
    : (redis.duplicate as (options: object) => RedisConnection).call(redis, { commandTimeout: undefined });
  // Errors surface through the reads; without a listener ioredis would print them.
  connection.on('error', () => {});
  return connection;
}
