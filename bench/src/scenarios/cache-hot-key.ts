import { Cache } from '@redkit/cache';
import type { RedisConnection } from '@redkit/core';
import type { Scenario, Target, Variant } from '../scenario.js';

/** Every entry lives an hour: nothing expires during a run. */
const ttlMs = 60 * 60_000;
/** The one key every operation reads. */
const hotKey = 'product:42';

/** A product page of about 1 KB of JSON. */
const value = {
  id: 42,
  title: 'The product everyone wants today',
  description: 'x'.repeat(800),
  price: 1999,
  stock: 17,
  tags: ['sale', 'featured', 'limited'],
};
const jsonLength = JSON.stringify(value).length;

function check(variant: string, got: unknown): void {
  const product = got as typeof value | undefined;
  if (product?.id !== 42 || product.description.length !== 800) {
    throw new Error(`${variant}: the hot key was not read back, got ${JSON.stringify(got)?.slice(0, 200)}`);
  }
}

/** The practical limit of one hot key on Redis: GET + JSON.parse, every read on the key's one master. */
function rawVariant(redis: RedisConnection, key: string): Variant {
  const name = 'raw-ioredis';
  return {
    name,
    async setup() {
      await redis.set(key, JSON.stringify(value), 'PX', ttlMs);
      const stored = await redis.strlen(key);
      if (stored !== jsonLength) throw new Error(`${name}: stored ${stored} bytes, expected ${jsonLength}`);
    },
    async run() {
      const json = await redis.get(key);
      check(name, json === null ? undefined : JSON.parse(json));
    },
  };
}

function redkitVariant(name: string, redis: RedisConnection, cache: Cache): Variant {
  // Its invalidation subscriber is a connection of its own: closed with the shared client.
  redis.once('end', () => void cache.close().catch(() => {}));
  return {
    name,
    async setup() {
      await cache.ready();
      await cache.set(hotKey, value);
      // Warm the detector (pinning needs the key hot) and check the value once.
      for (let i = 0; i < 200; i++) check(name, await cache.get(hotKey));
    },
    async run() {
      check(name, await cache.get(hotKey));
    },
  };
}

/**
 * One hot key read by every caller, as during a sale or a viral post: on a
 * cluster every read of it goes to one master while the others idle.
 * `replicas: 6` stores 6 copies whose hash tags fall in 6 equal slot ranges
 * (2 per master of 3) and reads a random one; pinning keeps the detected hot
 * key in process memory, invalidated over pub/sub, so reads send nothing.
 */
export const cacheHotKey: Scenario = {
  name: 'cache-hot-key',
  title: 'one hot key: plain, replicated over the masters, pinned in memory',
  description:
    'Every operation reads the same ~1 KB key (`cache.get`). `raw-ioredis` is a GET + JSON.parse; `redkit` ' +
    'reads the one entry (one GET on the master of its slot); `redkit replicas:6` keeps 6 copies under hash ' +
    'tags spread over the slot space and reads one at random (one GET, on any master); `redkit pinned` has ' +
    '`hotKeys: { threshold: 100 }`, so after 100 reads the key is pinned in memory and reads send nothing ' +
    '(until a write elsewhere invalidates it). `per-master share` is each master’s share of the commands ' +
    'counted during the measured part (`INFO commandstats` deltas per master, busiest first) and the ' +
    'busiest master ÷ the least busy (max/min): it shows where one hot key’s load goes, which ops/s on one ' +
    'shared 2-core machine cannot.',
  baseline: 'raw-ioredis',
  masterShare: true,
  variants({ redis }: Target): Variant[] {
    return [
      rawVariant(redis, `bench:hot:raw:{${hotKey}}`),
      redkitVariant('redkit', redis, new Cache({ redis, namespace: 'bench:hot:plain', ttl: ttlMs })),
      redkitVariant(
        'redkit replicas:6',
        redis,
        new Cache({ redis, namespace: 'bench:hot:spread', ttl: ttlMs, replicas: 6 }),
      ),
      redkitVariant(
        'redkit pinned',
        redis,
        new Cache({ redis, namespace: 'bench:hot:pinned', ttl: ttlMs, hotKeys: { threshold: 100 } }),
      ),
    ];
  },
};
