import { RedkitKeyvStore } from '@redkit/cache/keyv';
import type { RedisConnection } from '@redkit/core';
import { Keyv } from 'keyv';
import type { Scenario, Target, Variant } from '../scenario.js';
import { keyvRedis } from './cache.js';
import { randomIndexes } from './subjects.js';

const keyCount = 1_000;
const ttlMs = 60 * 60_000;
const sequence = randomIndexes(1 << 16, keyCount, 0x6b657976);
/** Key of operation `i`: one fixed random order, the same for every variant. */
const keyOf = (i: number) => sequence[i % sequence.length] as number;
const names = Array.from({ length: keyCount }, (_, n) => `user:${n}`);

/** A small record (about 100 bytes of JSON): per-call overhead, not payload size, is what tells stores apart. */
const recordOf = (n: number) => ({ id: n, name: `user ${n}`, email: `user.${n}@example.com`, plan: 'pro' });

function check(variant: string, n: number, got: unknown): void {
  if ((got as { id?: number } | undefined)?.id !== n) {
    throw new Error(`${variant}: key ${n} not read back, got ${JSON.stringify(got)}`);
  }
}

/** What a Keyv-based variant does per operation: a checked `get`, or a `set` with a ttl. */
type Operation = 'get' | 'set';

function keyvVariant(name: string, make: () => Promise<Keyv>, operation: Operation): Variant {
  // Set by setup(), which the runner awaits before any run().
  let keyv!: Keyv;
  return {
    name,
    async setup() {
      // Made here: the shared cluster client knows its masters only once connected.
      keyv = await make();
      for (let first = 0; first < keyCount; first += 100) {
        await Promise.all(names.slice(first, first + 100).map((key, k) => keyv.set(key, recordOf(first + k), ttlMs)));
      }
      check(name, 0, await keyv.get(names[0] as string));
    },
    async run(i) {
      const n = keyOf(i);
      if (operation === 'set') return keyv.set(names[n] as string, recordOf(n), ttlMs);
      check(name, n, await keyv.get(names[n] as string));
    },
  };
}

/** The practical limit: what Keyv stores and reads, sent by hand (`SET … PX` of its JSON envelope, `GET` + JSON.parse). */
function rawVariant(redis: RedisConnection, operation: Operation): Variant {
  const name = 'raw-ioredis';
  const keys = names.map((key) => `bench-raw-keyv:{${key}}`);
  const set = (n: number) =>
    redis.set(keys[n] as string, JSON.stringify({ value: recordOf(n), expires: Date.now() + ttlMs }), 'PX', ttlMs);
  return {
    name,
    async setup() {
      for (let first = 0; first < keyCount; first += 100) {
        await Promise.all(Array.from({ length: Math.min(100, keyCount - first) }, (_, k) => set(first + k)));
      }
    },
    async run(i) {
      const n = keyOf(i);
      if (operation === 'set') return set(n);
      const json = await redis.get(keys[n] as string);
      check(name, n, json === null ? undefined : (JSON.parse(json) as { value: unknown }).value);
    },
  };
}

function variants({ redis }: Target, operation: Operation): Variant[] {
  return [
    rawVariant(redis, operation),
    keyvVariant(
      'redkit-keyv',
      async () =>
        new Keyv({
          store: new RedkitKeyvStore({ redis, namespace: 'bench-rk-keyv', throwOnErrors: true }),
          throwOnErrors: true,
        }),
      operation,
    ),
    keyvVariant('keyv-redis', () => keyvRedis(redis, 'bench-keyv-redis'), operation),
  ];
}

const common =
  `${keyCount.toLocaleString('en-US')} keys in a fixed random order, a JSON record of about 100 bytes each, ` +
  `a ${ttlMs / 60_000}-minute ttl. \`redkit-keyv\`: \`new Keyv({ store: new RedkitKeyvStore({ redis }) })\` from ` +
  "`@redkit/cache/keyv` on the run's shared ioredis client (keys `<namespace>:{keyv:<key>}:kv`). `keyv-redis`: " +
  'Keyv 5 on @keyv/redis 5 as its `createKeyv()` sets it up (the store prefixes keys, `<namespace>::<key>`), on a ' +
  'node-redis client (@keyv/redis takes no ioredis client) to the same server or cluster. Both go through Keyv, ' +
  'which serializes `{ value, expires }` to JSON. `raw-ioredis` is the practical limit: the same JSON sent by hand ' +
  'with ioredis.';

/** `keyv.get(key)` of a stored key through each store, beside a raw GET. */
export const keyvGetHit: Scenario = {
  name: 'keyv-get-hit',
  title: `Keyv get (hit), ${keyCount.toLocaleString('en-US')} keys`,
  description: `One \`keyv.get(key)\` of a stored key per operation, checked to return its record. ${common} Raw: \`GET\` and JSON.parse.`,
  baseline: 'raw-ioredis',
  variants: (target) => variants(target, 'get'),
};

/** `keyv.set(key, value, ttl)` through each store, beside a raw SET … PX. */
export const keyvSet: Scenario = {
  name: 'keyv-set',
  title: `Keyv set with a ttl, ${keyCount.toLocaleString('en-US')} keys`,
  description: `One \`keyv.set(key, value, ttl)\` per operation (overwriting). ${common} Raw: \`SET key json PX ttl\`.`,
  baseline: 'raw-ioredis',
  variants: (target) => variants(target, 'set'),
};
