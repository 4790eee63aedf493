import KeyvRedis, { createClient, createCluster } from '@keyv/redis';
import { Cache } from '@redkit/cache';
import type { RedisConnection } from '@redkit/core';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { createCache } from 'cache-manager';
import { Cluster } from 'ioredis';
import { Keyv } from 'keyv';
import type { Scenario, Target, Variant } from '../scenario.js';
import { randomIndexes } from './subjects.js';

/** Every entry lives an hour: nothing expires (or is refreshed) during a run. */
const ttlMs = 60 * 60_000;
const keyCount = 1_000;
/** Keys filled per batch (callers in flight during setup). */
const seedBatch = 100;

const sequence = randomIndexes(1 << 16, keyCount, 0xcac4e);
/** Key read by operation `i`: one fixed random order, the same for every variant. */
const keyOf = (i: number) => sequence[i % sequence.length] as number;

/** A cached value: a user with their order lines, whose JSON is about the size the scenario names. */
interface CachedValue {
  readonly id: number;
  readonly name: string;
  readonly email: string;
  readonly lines: readonly { sku: string; qty: number; price: number; title: string }[];
}

/** Values of one JSON size: the order lines are shared, each key's value differs in id, name and email. */
interface ValueSize {
  /** For names: `1kb`, `100kb`. */
  readonly label: string;
  /** For titles: `1 KB`. */
  readonly text: string;
  /** Exact length of a value's JSON for a 4-digit id (the same for every variant). */
  readonly jsonLength: number;
  /** Order lines of every value. */
  readonly lineCount: number;
  value(n: number): CachedValue;
}

function valueSize(label: string, text: string, bytes: number): ValueSize {
  const lines: CachedValue['lines'][number][] = [];
  const make = (n: number): CachedValue => ({
    id: n,
    name: `user ${n}`,
    email: `user.${n}@example.com`,
    lines,
  });
  let n = 0;
  while (JSON.stringify(make(1000)).length < bytes) {
    lines.push({ sku: `sku-${(n * 7919) % 100_000}`, qty: 1 + (n % 5), price: 100 + n * 37, title: `item ${n}` });
    n++;
  }
  return { label, text, jsonLength: JSON.stringify(make(1000)).length, lineCount: lines.length, value: make };
}

const size1kb = valueSize('1kb', '1 KB', 1024);
const size100kb = valueSize('100kb', '100 KB', 100 * 1024);

function fail(variant: string, what: string, got: unknown): never {
  const shown = typeof got === 'object' && got !== null ? JSON.stringify(got).slice(0, 200) : String(got);
  throw new Error(`${variant}: ${what}, got ${shown}`);
}

/** The read check of every variant: the value of key `n`, with all its order lines. */
function check(variant: string, size: ValueSize, n: number, got: unknown): void {
  const value = got as CachedValue | undefined;
  if (value?.id !== n || value.lines?.length !== size.lineCount) {
    fail(variant, `key ${n} not read back`, got);
  }
}

/** A hit scenario's loader: never called, as every key was filled in setup. */
const mustNotLoad = (variant: string, n: number) => (): never => fail(variant, `loader called for key ${n}`, 'a miss');

/** Runs `write(n)` for every key, `seedBatch` at a time. */
async function seed(write: (n: number) => Promise<unknown>): Promise<void> {
  for (let first = 0; first < keyCount; first += seedBatch) {
    await Promise.all(Array.from({ length: Math.min(seedBatch, keyCount - first) }, (_, k) => write(first + k)));
  }
}

/** Subject of key `n`: its hash tag in every variant's key, so each key lands in the same cluster slot for all. */
const subject = (n: number) => `c${n}`;
const subjects = Array.from({ length: keyCount }, (_, n) => subject(n));
const tagged = subjects.map((name) => `{${name}}`);

/**
 * A node-redis client (@keyv/redis takes no ioredis client) to the server(s)
 * `redis` talks to: `createCluster` on a cluster, which @keyv/redis supports.
 */
async function nodeRedisFor(redis: RedisConnection) {
  const client =
    redis instanceof Cluster
      ? createCluster({
          rootNodes: redis
            .nodes('master')
            .map((node) => ({ url: `redis://${node.options.host}:${node.options.port}` })),
          defaults: { socket: { reconnectStrategy: false } },
        })
      : createClient({
          url: `redis://${redis.options.host}:${redis.options.port}`,
          socket: { reconnectStrategy: false },
        });
  // Errors surface through the calls; a dropped connection must not crash the run.
  client.on('error', () => {});
  // Variants have no teardown: close with the shared ioredis client, which the harness closes before it stops
  // the servers (else node-redis would keep the process alive).
  redis.once('end', () => {
    try {
      client.destroy();
    } catch {
      // Closed already (its server went first).
    }
  });
  await client.connect();
  return client;
}

/** cache-manager's Redis store: a Keyv on @keyv/redis, keys `<namespace>::<key>` (also the peer of the keyv-store scenarios). */
export async function keyvRedis(redis: RedisConnection, namespace: string): Promise<Keyv> {
  const store = new KeyvRedis(await nodeRedisFor(redis), { namespace, throwOnErrors: true });
  // As @keyv/redis's createKeyv() sets it up: the store prefixes keys itself.
  return new Keyv({ store, namespace, useKeyPrefix: false, throwOnErrors: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Hits from Redis

/** The practical limit of a Redis hit: GET, JSON.parse; on a miss the loader and SET … PX. */
function rawHitVariant(redis: RedisConnection, prefix: string, size: ValueSize): Variant {
  const name = 'raw-ioredis';
  const keys = tagged.map((tag) => `${prefix}:${tag}`);
  const getOrSet = async (key: string, load: () => CachedValue): Promise<CachedValue> => {
    const json = await redis.get(key);
    if (json !== null) return JSON.parse(json) as CachedValue;
    const value = load();
    await redis.set(key, JSON.stringify(value), 'PX', ttlMs);
    return value;
  };
  return {
    name,
    async setup() {
      await seed((n) => getOrSet(keys[n] as string, () => size.value(n)));
      const stored = await redis.strlen(keys[0] as string);
      if (stored !== JSON.stringify(size.value(0)).length) fail(name, 'entry of key 0 has the wrong length', stored);
    },
    async run(i) {
      const n = keyOf(i);
      check(name, size, n, await getOrSet(keys[n] as string, mustNotLoad(name, n)));
    },
  };
}

function redkitHitVariant(redis: RedisConnection, namespace: string, size: ValueSize): Variant {
  const name = 'redkit';
  const cache = new Cache({ redis, namespace, ttl: ttlMs });
  return {
    name,
    async setup() {
      await seed((n) => cache.getOrSet(subject(n), () => size.value(n)));
    },
    async run(i) {
      const n = keyOf(i);
      check(name, size, n, await cache.getOrSet(subjects[n] as string, mustNotLoad(name, n)));
    },
  };
}

/** The bentocache variant of a hit scenario: every key seeded, then every getOrSet a hit (a load fails the run). */
function bentoHits(bento: Pick<BentoCache<never>, 'getOrSet'>, size: ValueSize): Variant {
  const name = 'bentocache';
  return {
    name,
    async setup() {
      await seed((n) => bento.getOrSet({ key: tagged[n] as string, factory: () => size.value(n) }));
    },
    async run(i) {
      const n = keyOf(i);
      check(name, size, n, await bento.getOrSet({ key: tagged[n] as string, factory: mustNotLoad(name, n) }));
    },
  };
}

function bentoHitVariant(redis: RedisConnection, prefix: string, size: ValueSize): Variant {
  // Redis only: no memory layer, so every getOrSet reads Redis (its single-tier path: GET, JSON.parse of the item).
  const bento = new BentoCache({
    default: 'redis',
    prefix,
    ttl: ttlMs,
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: redis })) },
  });
  return bentoHits(bento, size);
}

function cacheManagerHitVariant(redis: RedisConnection, namespace: string, size: ValueSize): Variant {
  const name = 'cache-manager';
  // Set by setup(), which the runner awaits before any run().
  let cache!: ReturnType<typeof createCache>;
  return {
    name,
    async setup() {
      // Made here, not with the variant: the shared cluster client knows its masters only once connected.
      cache = createCache({ stores: [await keyvRedis(redis, namespace)], ttl: ttlMs });
      await seed((n) => cache.wrap(tagged[n] as string, () => size.value(n)));
    },
    async run(i) {
      const n = keyOf(i);
      check(name, size, n, await cache.wrap(tagged[n] as string, mustNotLoad(name, n)));
    },
  };
}

function hitRedisScenario(size: ValueSize): Scenario {
  const ns = (library: string) => `bench-${library}-cache-${size.label}`;
  return {
    name: `cache-hit-redis-${size.label}`,
    title: `cache hit read from Redis, ${size.text} JSON values, ${keyCount.toLocaleString('en-US')} keys`,
    description:
      `A cache-aside read that hits Redis: \`getOrSet(key, loader)\` of one of ${keyCount.toLocaleString('en-US')} ` +
      `keys per operation, in a fixed random order. Setup fills every key through each variant's own API (so each ` +
      `reads its own format), with a ${ttlMs / 60_000}-minute ttl; a JSON object of ${size.jsonLength.toLocaleString('en-US')} ` +
      "bytes per key, the same for every variant (a user with order lines). Every read is checked to return its key's " +
      'id and all its order lines, and every loader throws (a miss would stop the run), so all variants do the same ' +
      'work. `raw-ioredis` is the practical limit: `GET key`, then JSON.parse (a miss would run the loader and ' +
      "`SET key json PX ttl`). `redkit`: `Cache` of @redkit/cache without its memory tier, one `GET` of the entry's " +
      'string (`version|flags|freshUntil|staleUntil|loadMs|tags|payload`) and JSON.parse of the payload. ' +
      '`bentocache`: bentocache 1.6 with a Redis-only store (`bentostore().useL2Layer(redisDriver({ connection }))` on ' +
      'the shared ioredis client, no memory layer, no bus), `getOrSet({ key, factory })`: its single-tier path, one ' +
      '`GET` and JSON.parse of its item (`{ value, logicalExpiration, tags, createdAt }`). `cache-manager`: ' +
      'cache-manager 7 `createCache({ stores: [keyv] })` with a Keyv 5 on @keyv/redis 5, `wrap(key, fn)`: one `GET` ' +
      "and Keyv's JSON deserialization of `{ value, expires }`; @keyv/redis takes only a node-redis client, so it has " +
      'its own node-redis 6 connection (`createClient`, or `createCluster` on the cluster). Keys carry the same hash ' +
      'tag in every variant, so each key lands in the same cluster slot for all.',
    baseline: 'raw-ioredis',
    variants: ({ redis }: Target) => [
      rawHitVariant(redis, ns('raw'), size),
      redkitHitVariant(redis, ns('rk'), size),
      bentoHitVariant(redis, ns('bc'), size),
      cacheManagerHitVariant(redis, ns('cm'), size),
    ],
  };
}

/** Hits read from Redis (no memory tier), 1 KB values. */
export const cacheHitRedis1kb: Scenario = hitRedisScenario(size1kb);
/** Hits read from Redis (no memory tier), 100 KB values. */
export const cacheHitRedis100kb: Scenario = hitRedisScenario(size100kb);

// ---------------------------------------------------------------------------------------------------------------
// Hits from memory (L1)

const l1Entries = 10_000;

/** The practical limit of a memory hit: a plain Map of parsed values, `map.get(key)`. */
function rawMapVariant(size: ValueSize): Variant {
  const name = 'raw-map';
  const map = new Map<string, CachedValue>();
  return {
    name,
    async setup() {
      for (let n = 0; n < keyCount; n++) map.set(tagged[n] as string, JSON.parse(JSON.stringify(size.value(n))));
    },
    async run(i) {
      const n = keyOf(i);
      check(name, size, n, map.get(tagged[n] as string));
    },
  };
}

function redkitL1Variant(redis: RedisConnection, namespace: string, size: ValueSize): Variant {
  const name = 'redkit';
  const cache = new Cache({ redis, namespace, ttl: ttlMs, l1: { maxEntries: l1Entries } });
  // Its invalidation subscriber is a connection of its own: closed with the shared client (else it would
  // reconnect to the stopped server forever and keep the process alive).
  redis.once('end', () => void cache.close().catch(() => {}));
  return {
    name,
    async setup() {
      // Values are kept in memory only once its invalidation subscription is confirmed.
      await cache.ready();
      await seed((n) => cache.getOrSet(subject(n), () => size.value(n)));
      // Read every key until every read is a memory hit (a read from Redis fills the memory tier).
      for (let pass = 0; ; pass++) {
        let fromRedis = 0;
        const stop = cache.events.on('hit', ({ tier }) => {
          if (tier !== 'memory') fromRedis++;
        });
        try {
          await seed(async (n) => check(name, size, n, await cache.getOrSet(subject(n), mustNotLoad(name, n))));
        } finally {
          stop();
        }
        if (fromRedis === 0) return;
        if (pass === 50) fail(name, 'memory tier not filled', `${fromRedis} reads from Redis`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async run(i) {
      const n = keyOf(i);
      check(name, size, n, await cache.getOrSet(subjects[n] as string, mustNotLoad(name, n)));
    },
  };
}

function bentoL1Variant(redis: RedisConnection, prefix: string, size: ValueSize): Variant {
  // Memory layer in front of Redis, with the Redis bus that keeps other processes' memory layers coherent;
  // `serialize: false` keeps values as objects (the default keeps JSON text and parses it on every hit).
  const bento = new BentoCache({
    default: 'tiered',
    prefix,
    ttl: ttlMs,
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: l1Entries, serialize: false }))
        .useL2Layer(redisDriver({ connection: redis }))
        .useBus(redisBusDriver({ connection: redis })),
    },
  });
  // Its bus has two connections of its own (publisher, subscriber): closed with the shared client.
  redis.once('end', () => void bento.disconnectAll().catch(() => {}));
  return bentoHits(bento, size);
}

function cacheManagerL1Variant(redis: RedisConnection, namespace: string, size: ValueSize): Variant {
  const name = 'cache-manager';
  let cache!: ReturnType<typeof createCache>;
  return {
    name,
    async setup() {
      // An in-memory Keyv (a Map) holding values as objects, as createCache() sets up its own default store.
      const memory = new Keyv({ namespace });
      memory.serialize = undefined;
      memory.deserialize = undefined;
      cache = createCache({ stores: [memory, await keyvRedis(redis, namespace)], ttl: ttlMs });
      await seed((n) => cache.wrap(tagged[n] as string, () => size.value(n)));
    },
    async run(i) {
      const n = keyOf(i);
      check(name, size, n, await cache.wrap(tagged[n] as string, mustNotLoad(name, n)));
    },
  };
}

/** Hits served from the in-process memory tier. */
export const cacheHitL1: Scenario = {
  name: 'cache-hit-l1',
  title: `cache hit from the memory tier (L1), ${size1kb.text} JSON values, ${keyCount.toLocaleString('en-US')} keys`,
  description:
    `A cache-aside read served from memory: \`getOrSet(key, loader)\` of one of ${keyCount.toLocaleString('en-US')} ` +
    `keys per operation, in a fixed random order, every key filled in setup (memory and Redis) with a ` +
    `${size1kb.jsonLength.toLocaleString('en-US')}-byte JSON object; each read is checked like in ` +
    '`cache-hit-redis-1kb` and every loader throws. No variant should touch Redis (cmds/op ≈ 0): what is measured ' +
    'is the library code of a hit. `raw-map` is the practical limit: `Map.get` of a parsed object. `redkit`: ' +
    `\`Cache\` with \`l1: { maxEntries: ${l1Entries.toLocaleString('en-US')} }\` (an LRU bounded by entries and ` +
    'bytes, kept coherent across processes over Redis pub/sub; setup awaits `ready()`, fills, then reads every key ' +
    'until every read is a memory hit). `bentocache`: a memory layer (`memoryDriver({ maxItems: ' +
    `${l1Entries.toLocaleString('en-US')}, serialize: false })\`, its faster setting that keeps objects, not JSON) ` +
    'in front of its Redis driver, with its Redis bus for coherence, `getOrSet({ key, factory })`. `cache-manager`: ' +
    '`createCache({ stores: [memory, redis] })` where `memory` is an in-memory Keyv (a Map, serialization off as in ' +
    "cache-manager's own default store; unbounded) and `redis` a Keyv on @keyv/redis, `wrap(key, fn)`; cache-manager " +
    'has no cross-process coherence for its memory store.',
  baseline: 'raw-map',
  variants: ({ redis }: Target) => [
    rawMapVariant(size1kb),
    redkitL1Variant(redis, 'bench-rk-cache-l1', size1kb),
    bentoL1Variant(redis, 'bench-bc-cache-l1', size1kb),
    cacheManagerL1Variant(redis, 'bench-cm-cache-l1', size1kb),
  ],
};

// ---------------------------------------------------------------------------------------------------------------
// Misses with a loader

/**
 * A miss variant: each operation loads a key no operation of this variant used before (a counter that runs on
 * across rounds); its subject `m<count>` is the hash tag, so the k-th miss of every variant is in the same slot.
 */
function missVariant(
  name: string,
  getOrSet: (tag: string, subject: string, load: () => CachedValue) => Promise<unknown>,
  setup?: () => Promise<void>,
): Variant {
  let next = 0;
  const size = size1kb;
  const loadOnce = async (count: number) => {
    let loads = 0;
    const got = await getOrSet(`{m${count}}`, `m${count}`, () => {
      loads++;
      return size.value(count);
    });
    if (loads !== 1) fail(name, `loader called ${loads} times for miss ${count}`, got);
    check(name, size, count, got);
  };
  return {
    name,
    async setup() {
      await setup?.();
      // The loaded value must have been stored: a second read of a key is a hit.
      const count = next++;
      await loadOnce(count);
      check(name, size, count, await getOrSet(`{m${count}}`, `m${count}`, mustNotLoad(name, count)));
    },
    run: () => loadOnce(next++),
  };
}

/** The practical limit of a miss: GET (nil), the loader, then `SET key json PX ttl`: two round trips. */
function rawMissVariant(redis: RedisConnection, prefix: string): Variant {
  return missVariant('raw-ioredis', async (tag, _subject, load) => {
    const key = `${prefix}:${tag}`;
    const json = await redis.get(key);
    if (json !== null) return JSON.parse(json) as CachedValue;
    const value = load();
    await redis.set(key, JSON.stringify(value), 'PX', ttlMs);
    return value;
  });
}

function redkitMissVariant(redis: RedisConnection, namespace: string): Variant {
  const cache = new Cache({ redis, namespace, ttl: ttlMs });
  return missVariant('redkit', (_tag, subject, load) => cache.getOrSet(subject, load));
}

function bentoMissVariant(redis: RedisConnection, prefix: string): Variant {
  const bento = new BentoCache({
    default: 'redis',
    prefix,
    ttl: ttlMs,
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: redis })) },
  });
  return missVariant('bentocache', (tag, _subject, load) => bento.getOrSet({ key: tag, factory: load }));
}

function cacheManagerMissVariant(redis: RedisConnection, namespace: string): Variant {
  let cache!: ReturnType<typeof createCache>;
  return missVariant(
    'cache-manager',
    (tag, _subject, load) => cache.wrap(tag, load),
    async () => {
      cache = createCache({ stores: [await keyvRedis(redis, namespace)], ttl: ttlMs });
    },
  );
}

/** Misses: the loader runs and its value is stored. */
export const cacheMissLoader: Scenario = {
  name: 'cache-miss-loader',
  title: `cache miss with a loader, ${size1kb.text} JSON values`,
  description:
    'A cache-aside read that misses: `getOrSet(key, loader)` of a key never used before, per operation (each ' +
    'variant counts its own keys up, across rounds too; the k-th key has the same hash tag in every variant, so ' +
    `lands in the same cluster slot). The loader returns a ${size1kb.jsonLength.toLocaleString('en-US')}-byte JSON ` +
    "object at once (no I/O), so what is measured is the cache's own miss path: lookup, then write. Each call " +
    "is checked to have run the loader exactly once and to return its value; setup checks that a loaded key's " +
    `second read is a hit (the value was stored). Values live ${ttlMs / 60_000} minutes. \`raw-ioredis\` is the ` +
    'practical limit: `GET key` (nil), the loader, `SET key json PX ttl`: two round trips, and no stampede ' +
    'protection. `redkit`: `Cache` of @redkit/cache (no memory tier): its `GET`, then the `begin-load` script ' +
    '(TIME, GET of the entry again, `SET lease NX PX`: a lease that lets one process per key load), the loader, ' +
    'then the `set-entry` script (TIME, GETRANGE of the old version, GET + DEL of the lease, SET of the versioned ' +
    'entry, PUBLISH of the invalidation): three round trips. `bentocache`: Redis-only store as in ' +
    '`cache-hit-redis-1kb`, `getOrSet({ key, factory })`: GET, an in-process lock, GET again, the factory, ' +
    '`SET … PX`. `cache-manager`: as in `cache-hit-redis-1kb`, `wrap(key, fn)`: GET, the function, `SET … PX`.',
  baseline: 'raw-ioredis',
  variants: ({ redis }: Target) => [
    rawMissVariant(redis, 'bench-raw-cache-miss'),
    redkitMissVariant(redis, 'bench-rk-cache-miss'),
    bentoMissVariant(redis, 'bench-bc-cache-miss'),
    cacheManagerMissVariant(redis, 'bench-cm-cache-miss'),
  ],
};
