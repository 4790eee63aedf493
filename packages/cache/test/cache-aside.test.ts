import { Cache } from '@redkit/cache';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { keysOf, keysPerMaster, sleep } from './helpers.js';

describeTopologies('cache-aside', (t) => {
  const cache = (extra: Partial<ConstructorParameters<typeof Cache>[0]> = {}) =>
    new Cache({ redis: t.redis, namespace: t.namespace, ttl: '1m', ...extra });

  it('getOrSet loads once, then serves the stored value; get, has, set and delete agree', async () => {
    const users = cache();
    let loads = 0;
    const loader = async () => {
      loads++;
      return { id: 1, name: 'Ann' };
    };
    expect(await users.getOrSet('user:1', loader)).toEqual({ id: 1, name: 'Ann' });
    expect(await users.getOrSet('user:1', loader)).toEqual({ id: 1, name: 'Ann' });
    expect(loads).toBe(1);
    expect(await users.get('user:1')).toEqual({ id: 1, name: 'Ann' });
    expect(await users.has('user:1')).toBe(true);
    await users.set('user:1', { id: 1, name: 'Bea' });
    expect(await users.get('user:1')).toEqual({ id: 1, name: 'Bea' });
    expect(await users.delete('user:1')).toBe(true);
    expect(await users.get('user:1')).toBeUndefined();
    expect(await users.has('user:1')).toBe(false);
    expect(await users.delete('user:1')).toBe(false);
    expect(await users.getOrSet('user:1', loader)).toEqual({ id: 1, name: 'Ann' });
    expect(loads).toBe(2);
  });

  it('a stored entry expires after its ttl (with jitter taking at most its share off)', async () => {
    const short = cache({ ttl: 400, jitter: 0.5 });
    await short.set('k', 1);
    await sleep(100);
    expect(await short.get('k')).toBe(1);
    await sleep(400);
    expect(await short.get('k')).toBeUndefined();
  });

  it('negative caching: "not found" is cached for negativeTtl, and not at all by default', async () => {
    let loads = 0;
    const missing = async () => {
      loads++;
      return undefined;
    };
    const plain = cache();
    expect(await plain.getOrSet('nobody', missing)).toBeUndefined();
    expect(await plain.getOrSet('nobody', missing)).toBeUndefined();
    expect(loads).toBe(2);
    const negative = cache({ namespace: `${t.namespace}:neg`, negativeTtl: 300 });
    expect(await negative.getOrSet('nobody', missing)).toBeUndefined();
    expect(await negative.getOrSet('nobody', missing)).toBeUndefined();
    expect(loads).toBe(3);
    expect(await negative.has('nobody')).toBe(false);
    await sleep(400);
    await negative.getOrSet('nobody', missing);
    expect(loads).toBe(4);
  });

  it('getMany and getOrSetMany batch per slot and load only the missing keys, in one loader call', async () => {
    const many = cache({ namespace: `${t.namespace}:many` });
    await many.set('a', 'A');
    await many.set('c', 'C');
    expect(await many.getMany(['a', 'b', 'c'])).toEqual(['A', undefined, 'C']);
    const calls: string[][] = [];
    const values = await many.getOrSetMany(['a', 'b', 'c', 'd', 'b'], async (keys) => {
      calls.push([...keys]);
      return new Map(keys.filter((key) => key !== 'd').map((key) => [key, key.toUpperCase()]));
    });
    expect(values).toEqual(['A', 'B', 'C', undefined, 'B']);
    expect(calls.map((keys) => [...keys].sort())).toEqual([['b', 'd']]);
    expect(await many.getMany(['b', 'd'])).toEqual(['B', undefined]);
  });

  it('wrap caches a function by its arguments', async () => {
    const wrapped = cache({ namespace: `${t.namespace}:wrap` });
    let calls = 0;
    const square = wrapped.wrap(
      async (n: number) => {
        calls++;
        return n * n;
      },
      (n) => `square:${n}`,
    );
    expect(await square(3)).toBe(9);
    expect(await square(3)).toBe(9);
    expect(await square(4)).toBe(16);
    expect(calls).toBe(2);
  });

  it('tags: invalidateTags makes every tagged entry a miss in every instance, and leaves the rest', async () => {
    const a = cache({ namespace: `${t.namespace}:tags` });
    const b = new Cache({ redis: t.client(), namespace: `${t.namespace}:tags` });
    await a.set('p1', 'one', { tags: ['product', 'shop:1'] });
    await a.set('p2', 'two', { tags: ['product'] });
    await a.set('s1', 'shop', { tags: ['shop:1'] });
    await a.set('free', 'untagged');
    expect(await b.getMany(['p1', 'p2', 's1', 'free'])).toEqual(['one', 'two', 'shop', 'untagged']);
    await b.invalidateTags(['product']);
    expect(await a.getMany(['p1', 'p2', 's1', 'free'])).toEqual([undefined, undefined, 'shop', 'untagged']);
    expect(await a.has('p1')).toBe(false);
    // A value loaded after the invalidation is cached again.
    expect(await a.getOrSet('p1', async () => 'one again', { tags: ['product'] })).toBe('one again');
    expect(await b.get('p1')).toBe('one again');
  });

  it('invalidateTags reaches tagged entries on every master: none is served again', async () => {
    const namespace = `${t.namespace}:tagspread`;
    const spread = cache({ namespace });
    const keys = Array.from({ length: 60 }, (_, i) => `item:${i}`);
    for (const key of keys) await spread.set(key, key, { tags: ['everything'] });
    for (const count of await keysPerMaster(t.redis, namespace)) expect(count).toBeGreaterThan(0);
    expect(await spread.getMany(keys)).toEqual(keys);
    await spread.invalidateTags(['everything']);
    expect(await spread.getMany(keys)).toEqual(keys.map(() => undefined));
    const other = new Cache({ redis: t.client(), namespace });
    for (const key of keys.slice(0, 10)) expect(await other.has(key)).toBe(false);
  });

  it('a load that started before invalidateTags cannot cache its (older) value as valid', async () => {
    const tagged = cache({ namespace: `${t.namespace}:tagrace` });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const loading = tagged.getOrSet(
      'k',
      async () => {
        await gate;
        return 'read before the invalidation';
      },
      { tags: ['t'] },
    );
    await sleep(50);
    await tagged.invalidateTags(['t']);
    release();
    expect(await loading).toBe('read before the invalidation');
    expect(await tagged.get('k')).toBeUndefined();
  });

  it('a schema rejects a stored value that does not match: a miss, reported, and reloaded', async () => {
    const loose = cache({ namespace: `${t.namespace}:schema` });
    await loose.set('u', { name: 42 });
    const typed = new Cache({
      redis: t.redis,
      namespace: `${t.namespace}:schema`,
      schema: z.object({ name: z.string() }),
      schemaVersion: undefined,
    });
    // With a schema the key carries a schema version, so the old shape is not even read …
    expect(await typed.getOrSet('u', async () => ({ name: 'Ann' }))).toEqual({ name: 'Ann' });
    // … and when the same version holds a bad value, it is reported and reloaded.
    const invalid: string[] = [];
    const same = new Cache({ redis: t.redis, namespace: `${t.namespace}:schema2`, schemaVersion: 3 });
    await same.set('u', { name: 42 });
    const checked = new Cache({
      redis: t.redis,
      namespace: `${t.namespace}:schema2`,
      schemaVersion: 3,
      schema: z.object({ name: z.string() }),
    });
    checked.events.on('invalid-value', ({ error }) => invalid.push(error));
    expect(await checked.getOrSet('u', async () => ({ name: 'Bea' }))).toEqual({ name: 'Bea' });
    expect(invalid).toHaveLength(1);
    expect(await checked.get('u')).toEqual({ name: 'Bea' });
  });

  it('values above compressAbove are gzipped and read back; a custom serializer is used both ways', async () => {
    const big = { text: 'x'.repeat(50_000), list: Array.from({ length: 100 }, (_, i) => i) };
    const zipped = cache({ namespace: `${t.namespace}:zip`, compressAbove: 1024 });
    await zipped.set('big', big);
    expect(await zipped.get('big')).toEqual(big);
    const [key] = await keysOf(t.redis, `${t.namespace}:zip`);
    const stored = (await t.redis.get(key as string)) as string;
    expect(stored.length).toBeLessThan(5_000);
    const dated = cache({
      namespace: `${t.namespace}:ser`,
      serializer: {
        serialize: (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
        deserialize: (text) =>
          JSON.parse(text, (_, v) => (typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)),
      },
    });
    await dated.set('n', { big: 2n ** 70n });
    expect(await dated.get('n')).toEqual({ big: 2n ** 70n });
  });

  it('clear() removes every key of the namespace on every master and nothing else', async () => {
    const namespace = `${t.namespace}:clear`;
    const doomed = cache({ namespace });
    const other = cache({ namespace: `${t.namespace}:kept` });
    for (let i = 0; i < 60; i++) await doomed.set(`k${i}`, i, { tags: [`t${i % 3}`] });
    await other.set('stay', 1);
    expect((await keysOf(t.redis, namespace)).length).toBeGreaterThanOrEqual(60);
    const before = await keysPerMaster(t.redis, namespace);
    // On the cluster the keys are spread over all three masters, and clear() empties each of them.
    expect(before.length).toBe(t.topology === 'cluster' ? 3 : 1);
    for (const count of before) expect(count).toBeGreaterThan(0);
    await doomed.clear();
    expect(await keysPerMaster(t.redis, namespace)).toEqual(before.map(() => 0));
    expect(await keysOf(t.redis, namespace)).toEqual([]);
    expect(await other.get('stay')).toBe(1);
  });
});
