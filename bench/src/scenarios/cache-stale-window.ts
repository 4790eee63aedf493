import { Cache } from '@redkit/cache';
import type { RedisConnection } from '@redkit/core';
import type { DistributionScenario, DistributionVariant, Target } from '../scenario.js';

/** Keys written in turn: spread over every master's slots on a cluster. */
const keyCount = 64;
/** A sample whose invalidation has not arrived by then is lost (the memory tier would keep the old value for its ttl). */
const boundMs = 2_000;

/** The part of a Cache's memory tier the scenario watches (private: this reaches into the instance on purpose). */
interface WatchedTier {
  get(key: string): unknown;
  invalidate(key: string, version: number): void;
}

/**
 * Calls `onDrop(key)` when `cache`'s memory tier gets an invalidation, at the
 * moment it drops the key: the end of the stale window.
 */
function watchDrops(cache: Cache, onDrop: (key: string) => void): WatchedTier {
  const tier = (cache as unknown as { memory: WatchedTier }).memory;
  const invalidate = tier.invalidate.bind(tier);
  tier.invalidate = (key, version) => {
    invalidate(key, version);
    onDrop(key);
  };
  return tier;
}

function redkitVariant(target: Target): DistributionVariant {
  const clients: RedisConnection[] = [];
  const client = () => {
    // Each "process" has its own connections, as two processes would.
    const made = (target.redis.duplicate as () => RedisConnection).call(target.redis);
    clients.push(made);
    return made;
  };
  let writer: Cache;
  let reader: Cache;
  let tier: WatchedTier;
  const waiting = new Map<string, (at: number) => void>();
  return {
    name: 'redkit',
    async setup() {
      writer = new Cache({ redis: client(), namespace: 'bench-stale', ttl: '1h' });
      reader = new Cache({ redis: client(), namespace: 'bench-stale', ttl: '1h', l1: { maxEntries: 1_000 } });
      await reader.ready();
      tier = watchDrops(reader, (key) => waiting.get(key)?.(performance.now()));
    },
    async sample(i) {
      const key = `k${i % keyCount}`;
      await writer.set(key, i);
      // The reader holds the value in memory, as a process serving it would.
      await reader.get(key);
      if (tier.get(key) === undefined) throw new Error(`${key} did not enter the memory tier`);
      const dropped = new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), boundMs);
        waiting.set(key, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
      await writer.set(key, i + 1);
      const acknowledged = performance.now();
      const at = await dropped;
      waiting.delete(key);
      // Dropped before the writer got its reply: no stale window after the write returned.
      return at === undefined ? undefined : Math.max(0, at - acknowledged);
    },
    async teardown() {
      await Promise.all([writer?.close(), reader?.close()]);
      for (const made of clients) made.disconnect();
    },
  };
}

/**
 * How long another process's memory tier keeps serving a value after a
 * write: from `set` resolving in one cache until a second cache (own
 * connections, `l1` on) has dropped its copy.
 */
export const cacheStaleWindow: DistributionScenario = {
  kind: 'distribution',
  name: 'cache-stale-window',
  title: 'memory-tier stale window after a write in another process',
  description:
    'Two caches on their own connections, as two processes would be: the reader holds a key in its memory tier ' +
    '(`l1`), the writer `set`s it, and the figure is the time from the writer’s `set` resolving until the ' +
    'reader’s memory tier has dropped its copy (0 when it dropped it before the writer got its reply). One write ' +
    `at a time, over ${keyCount} keys spread over every master; a sample not dropped within ${boundMs / 1_000} s ` +
    'counts as lost. On a cluster the invalidation is published with SPUBLISH on a shard channel of the node that ' +
    'made the write, so it does not cross the cluster bus.',
  samples: 2_000,
  variants: (target) => [redkitVariant(target)],
};
