import { InvalidOptionsError } from '@redkit/core';

function checkCount(count: unknown, context: string): number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 65_536) {
    throw new InvalidOptionsError([{ path: 'count', message: 'must be a whole number from 1 to 65536' }], { context });
  }
  return count;
}

/**
 * The partition of a key: FNV-1a (32 bit) of its UTF-8 bytes modulo `count`.
 * Stable across processes and versions, so all messages of one key (an order,
 * a user) go to the same stream and keep their relative order.
 *
 * A stream and its side keys live in one cluster slot, so one stream is
 * served by one master; spread a busy queue over several streams, one
 * `StreamQueue` per partition, to use every master.
 *
 * @example
 * ```ts
 * const streams = partitionStreams('orders', 8)
 * const queues = streams.map((stream) => new StreamQueue({ redis, stream, schema }))
 * await queues[partitionOf(order.id, 8)].add(order)
 * ```
 */
export function partitionOf(key: string, count: number): number {
  const context = 'partitionOf()';
  checkCount(count, context);
  if (typeof key !== 'string') {
    throw new InvalidOptionsError([{ path: 'key', message: 'must be a string' }], { context });
  }
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % count;
}

/**
 * The stream names of a queue split into `count` partitions: `<name>-0` …
 * `<name>-<count − 1>`. Each name is its own hash tag, so the partitions
 * spread over the cluster's slots.
 *
 * @example
 * ```ts
 * partitionStreams('orders', 3) // ['orders-0', 'orders-1', 'orders-2']
 * ```
 */
export function partitionStreams(name: string, count: number): string[] {
  const context = 'partitionStreams()';
  checkCount(count, context);
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidOptionsError([{ path: 'name', message: 'must be a non-empty string' }], { context });
  }
  return Array.from({ length: count }, (_, index) => `${name}-${index}`);
}
