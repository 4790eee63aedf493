import { RedkitKeyvStore } from '@redkit/cache/keyv';
import { connect, driverFor, InvalidOptionsError, Keyspace, keySlot, RedisUnavailableError } from '@redkit/core';
import { describeTopologies } from '@redkit/testing/vitest';
import Keyv from 'keyv';
import { afterAll, describe, expect, it } from 'vitest';
import { keysOf } from './helpers.js';

/** How many masters hold at least one of `keys` (1 on a single server). */
async function mastersHolding(redis: Parameters<typeof driverFor>[0], keys: string[]): Promise<number> {
  let holding = 0;
  for (const master of await driverFor(redis).masters()) {
    const found = await Promise.all(keys.map((key) => master.command<number>('EXISTS', [key]).catch(() => 0)));
    if (found.some((count) => count === 1)) holding++;
  }
  return holding;
}

describeTopologies('Keyv store: layout and namespaces', (t) => {
  const store = (namespace = t.namespace) => new RedkitKeyvStore({ redis: t.redis, namespace });

  it("writes each entry under core's key builder, its own hash tag, with the ttl as PX", async () => {
    const keyv = new Keyv({ store: store() });
    await keyv.set('user:{42}', { name: 'Ada' }, 60_000);
    const redisKey = new Keyspace(t.namespace).key('keyv:user:{42}', 'kv');
    expect(redisKey).toBe(`${t.namespace}:{keyv%3Auser%3A%7B42%7D}:kv`);
    expect(await keysOf(t.redis, t.namespace)).toEqual([redisKey]);
    // Keyv's own serialized envelope, stored as it is: any Keyv reading this layout understands it.
    expect(JSON.parse((await t.redis.get(redisKey)) as string)).toMatchObject({ value: { name: 'Ada' } });
    const pttl = await t.redis.pttl(redisKey);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(60_000);
    await keyv.set('forever', 1);
    expect(await t.redis.pttl(new Keyspace(t.namespace).key('keyv:forever', 'kv'))).toBe(-1);
    await keyv.clear();
  });

  it("clear() deletes only this Keyv namespace's keys, on every master", async () => {
    const users = new Keyv({ store: store(), namespace: 'users' });
    const carts = new Keyv({ store: store(), namespace: 'carts' });
    const elsewhere = new Keyv({ store: store(`${t.namespace}-other`), namespace: 'users' });
    const keys = Array.from({ length: 40 }, (_, index) => `k${index}`);
    await Promise.all(keys.flatMap((key) => [users.set(key, 1), carts.set(key, 2), elsewhere.set(key, 3)]));
    // A key of the same redkit namespace that is not the store's (a Cache entry, say) survives too.
    const foreign = new Keyspace(t.namespace).key('users:k0', 'e');
    await t.redis.set(foreign, 'x');
    const userKeys = keys.map((key) => new Keyspace(t.namespace).key(`users:${key}`, 'kv'));
    // The cleared keys are spread over every master, so a clear that asked one node only would leave some.
    expect(await mastersHolding(t.redis, userKeys)).toBe(t.topology === 'cluster' ? 3 : 1);

    await users.clear();

    expect(await users.get(keys)).toEqual(keys.map(() => undefined));
    expect(await carts.get(keys)).toEqual(keys.map(() => 2));
    expect(await elsewhere.get(keys)).toEqual(keys.map(() => 3));
    expect(await t.redis.get(foreign)).toBe('x');
    expect((await keysOf(t.redis, t.namespace)).filter((key) => key.includes('users'))).toEqual([foreign]);
    await Promise.all([carts.clear(), elsewhere.clear(), t.redis.del(foreign)]);
  });

  it('getMany is dense: the values in the order asked, undefined for each miss, across slots', async () => {
    const keyv = new Keyv({ store: store() });
    const keys = Array.from({ length: 30 }, (_, index) => `m${index}`);
    await keyv.setMany(keys.filter((_, index) => index % 3 !== 0).map((key) => ({ key, value: `v-${key}` })));
    const slots = new Set(keys.map((key) => keySlot(new Keyspace(t.namespace).key(`keyv:${key}`, 'kv'))));
    expect(slots.size).toBeGreaterThan(1);
    expect(await keyv.get(keys)).toEqual(keys.map((key, index) => (index % 3 === 0 ? undefined : `v-${key}`)));
    await keyv.clear();
  });

  it('setMany writes every entry with its own ttl and answers one boolean per entry', async () => {
    const keyv = new Keyv({ store: store() });
    const written = await keyv.setMany([
      { key: 'a', value: 1, ttl: 30_000 },
      { key: 'b', value: 2 },
      { key: 'c', value: 3, ttl: 10_000 },
    ]);
    expect(written).toEqual([true, true, true]);
    const pttl = (key: string) => t.redis.pttl(new Keyspace(t.namespace).key(`keyv:${key}`, 'kv'));
    expect(await pttl('a')).toBeGreaterThan(10_000);
    expect(await pttl('b')).toBe(-1);
    expect(await pttl('c')).toBeLessThanOrEqual(10_000);
    expect(await keyv.get(['a', 'b', 'c'])).toEqual([1, 2, 3]);
    await keyv.clear();
  });

  it('iterator() walks every master and yields each entry of the namespace once', async () => {
    const keyv = new Keyv({ store: store(), namespace: 'walk' });
    const other = new Keyv({ store: store(), namespace: 'other' });
    const entries = new Map(Array.from({ length: 60 }, (_, index) => [`i${index}`, index]));
    await keyv.setMany([...entries].map(([key, value]) => ({ key, value })));
    await other.set('i0', 'not mine');
    const seen = new Map<string, unknown>();
    for await (const [key, value] of keyv.iterator?.(undefined) ?? []) {
      expect(seen.has(key)).toBe(false);
      seen.set(key, value);
    }
    expect(seen).toEqual(entries);
    await Promise.all([keyv.clear(), other.clear()]);
  });

  it('deleteMany answers whether any key existed, however the slot groups finish', async () => {
    const keyv = new Keyv({ store: store() });
    // One existing key among many missing ones: on a cluster its slot group is rarely the last to answer.
    const missing = Array.from({ length: 30 }, (_, index) => `gone${index}`);
    for (let round = 0; round < 5; round++) {
      await keyv.set('d1', 1);
      expect(await keyv.delete(['d1', ...missing])).toBe(true);
      expect(await keyv.get('d1')).toBeUndefined();
    }
    expect(await keyv.delete(['d1', ...missing])).toBe(false);
  });
});

describeTopologies('Keyv store: bad input', (t) => {
  const options = () => ({ redis: t.redis, namespace: t.namespace });
  const store = new RedkitKeyvStore(options());

  afterAll(async () => {
    // Nothing reached Redis: no key of this namespace exists on any node.
    expect(await keysOf(t.redis, t.namespace)).toEqual([]);
  });

  it.each<[string, () => unknown, string]>([
    ['bad namespace', () => new RedkitKeyvStore({ ...options(), namespace: 'a b' }), 'namespace'],
    ['not a client', () => new RedkitKeyvStore({ ...options(), redis: {} as never }), 'redis: must be an ioredis'],
    [
      'throwOnErrors not a boolean',
      () => new RedkitKeyvStore({ ...options(), throwOnErrors: 1 as never }),
      'throwOnErrors',
    ],
    ['scanCount 0', () => new RedkitKeyvStore({ ...options(), scanCount: 0 }), 'scanCount'],
    ['unknown option', () => new RedkitKeyvStore({ ...options(), ttl: 5 } as never), 'ttl'],
  ])('constructor: %s → InvalidOptionsError naming the field', (_case, create, message) => {
    expect(create).toThrow(InvalidOptionsError);
    expect(create).toThrow(message);
  });

  it.each<[string, () => Promise<unknown>, string]>([
    ['set with an empty key', () => store.set('', 'v'), 'key'],
    ['set with a number key', () => store.set(1 as never, 'v'), 'key'],
    ['set with an unserialized value', () => store.set('k', { a: 1 } as never), 'value: must be a string'],
    ['set with a negative ttl', () => store.set('k', 'v', -1), 'ttl'],
    ['set with a NaN ttl', () => store.set('k', 'v', Number.NaN), 'ttl'],
    ['set with a string ttl', () => store.set('k', 'v', '1m' as never), 'ttl'],
    ['get with no key', () => store.get(undefined as never), 'key'],
    ['has with an object key', () => store.has({} as never), 'key'],
    ['delete with an empty key', () => store.delete(''), 'key'],
    ['getMany with a non-array', () => store.getMany('k' as never), 'keys'],
    ['getMany with a bad key', () => store.getMany(['a', 2 as never]), 'keys.1'],
    ['deleteMany with a bad key', () => store.deleteMany(['a', '']), 'keys.1'],
    [
      'setMany with one bad entry among good ones',
      () =>
        store.setMany([
          { key: 'good', value: 'v' },
          { key: 'bad', value: 'v', ttl: 0 },
        ]),
      'entries.1.ttl',
    ],
    ['setMany with a non-array', () => store.setMany({} as never), 'entries'],
  ])('%s → InvalidOptionsError naming the field, nothing written', async (_case, call, message) => {
    const error = await call().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain(message);
  });
});

describe('Keyv store: Redis unavailable', () => {
  // Nothing listens on port 1: every command waits for a connection until its timeout.
  const redis = connect({ url: 'redis://127.0.0.1:1', commandTimeout: 200, reconnect: { minDelay: 50, maxDelay: 50 } });
  afterAll(() => redis.disconnect());

  it("emits the failure as Keyv's 'error' and answers a miss", async () => {
    const keyv = new Keyv({ store: new RedkitKeyvStore({ redis }) });
    const errors: unknown[] = [];
    keyv.on('error', (error) => errors.push(error));
    expect(await keyv.get('k')).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RedisUnavailableError);
    expect(await keyv.set('k', 'v')).toBe(false);
    expect(errors).toHaveLength(2);
  });

  it('rejects instead with throwOnErrors', async () => {
    const store = new RedkitKeyvStore({ redis, throwOnErrors: true });
    await expect(store.get('k')).rejects.toBeInstanceOf(RedisUnavailableError);
    await expect(store.clear()).rejects.toBeInstanceOf(RedisUnavailableError);
  });
});
