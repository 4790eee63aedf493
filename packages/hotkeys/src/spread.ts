import { driverFor, escapeKeyPart, isCluster, keySlot, parseOptions, type RedisConnection } from '@redkit/core';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { spreadTagsArgsSchema } from './options.js';

/** Slots of a Redis Cluster. */
export const slotCount = 16_384;

/**
 * The slot range `index` of `count` equal ranges: `[first, end)`. Bounds are
 * rounded as `redis-cli --cluster create` divides slots among masters, so the
 * ranges of `k × m` tags nest exactly inside the ranges of `m` masters.
 */
export function slotRange(index: number, count: number): readonly [first: number, end: number] {
  return [Math.round((index * slotCount) / count), Math.round(((index + 1) * slotCount) / count)];
}

/** The slot of a key whose hash tag is `tag` (escaped as Keyspace escapes a subject). */
export function tagSlot(tag: string): number {
  return keySlot(`{${escapeKeyPart(tag)}}`);
}

const cache = new LRUCache<string, readonly string[]>({ max: 10_000 });

/**
 * `count` hash tags derived from `base` (`<base>#<j>`, for the smallest `j`
 * that lands in each range) whose cluster slots fall in `count` distinct,
 * equal ranges of the slot space: tag `i` lies in range `i` (see
 * {@link slotRange}).
 *
 * The tags depend only on `base` and `count`, never on the live cluster.
 * Masters usually own contiguous, equal slot ranges (as `redis-cli --cluster
 * create` assigns them), so when `count` is a multiple of the master count,
 * each master serves `count / masters` of the tags. Use them as `Keyspace`
 * subjects (`keys.key(tag, …)` gives `<ns>:{<tag>}:…`), which escape them
 * exactly as the slot was computed. Results are cached (LRU of 10,000).
 *
 * @param count number of tags, 1 to 1024.
 * @example
 * ```ts
 * spreadTags('product:42', 3) // ['product:42#1', 'product:42#4', 'product:42#0'] (say)
 * const keys = new Keyspace('cache')
 * const copies = spreadTags('product:42', 6).map((tag) => keys.key(tag, 'v'))
 * ```
 */
export function spreadTags(base: string, count: number): readonly string[] {
  const cacheKey = `${count}\u0000${base}`;
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  parseOptions(spreadTagsArgsSchema, { base, count }, 'spreadTags()');
  const tags: (string | undefined)[] = new Array(count).fill(undefined);
  const escaped = escapeKeyPart(base);
  let missing = count;
  for (let j = 0; missing > 0; j++) {
    const slot = keySlot(`{${escaped}#${j}}`);
    // The range holding `slot`: the estimate by division, corrected for rounding at the bounds.
    let range = Math.floor((slot * count) / slotCount);
    while (range > 0 && slot < (slotRange(range, count)[0] as number)) range--;
    while (range < count - 1 && slot >= (slotRange(range + 1, count)[0] as number)) range++;
    if (tags[range] === undefined) {
      tags[range] = `${base}#${j}`;
      missing--;
    }
  }
  const result = Object.freeze(tags as string[]);
  cache.set(cacheKey, result);
  return result;
}

function standaloneAddress(redis: Redis): string {
  const { host, port, path } = redis.options;
  return path ? path : `${host ?? 'localhost'}:${port ?? 6379}`;
}

/**
 * The nodes (`host:port`, master first then its replicas) serving each key's
 * slot, from the client's slot map. Waits for a cluster client to be ready.
 */
export async function nodesOf(redis: RedisConnection, keys: readonly string[]): Promise<string[][]> {
  if (!isCluster(redis)) {
    const address = standaloneAddress(redis as Redis);
    return keys.map(() => [address]);
  }
  // Resolves once the client is ready and knows its slot map.
  if (redis.status !== 'ready') await driverFor(redis).masters();
  return keys.map((key) => [...(redis.slots[keySlot(key)] ?? [])]);
}

/**
 * The master (`host:port`, as the cluster announces it) serving each key, in
 * order, from the client's current slot map (no command is sent). On a
 * standalone client every key maps to its one server. Waits for a cluster
 * client to be ready.
 *
 * @example
 * ```ts
 * const keys = spreadTags('views', 6).map((tag) => `counter:{${tag}}:c`)
 * await mastersOf(redis, keys) // ['127.0.0.1:7000', '127.0.0.1:7000', '127.0.0.1:7001', …]
 * ```
 */
export async function mastersOf(redis: RedisConnection, keys: readonly string[]): Promise<string[]> {
  return (await nodesOf(redis, keys)).map((nodes) => nodes[0] ?? 'unknown');
}

/**
 * Groups keys by the set of nodes serving their slot (a master and its
 * replicas), the unit an ioredis cluster pipeline may span. Standalone: one
 * group. Keeps each key's position.
 */
export async function groupByNodes(
  redis: RedisConnection,
  keys: readonly string[],
): Promise<{ nodes: string; keys: string[]; indexes: number[] }[]> {
  const groups = new Map<string, { nodes: string; keys: string[]; indexes: number[] }>();
  const nodes = await nodesOf(redis, keys);
  keys.forEach((key, index) => {
    const id = (nodes[index] as string[]).join(';');
    let group = groups.get(id);
    if (!group) {
      group = { nodes: id, keys: [], indexes: [] };
      groups.set(id, group);
    }
    group.keys.push(key);
    group.indexes.push(index);
  });
  return [...groups.values()];
}
