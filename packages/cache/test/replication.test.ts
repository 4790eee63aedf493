import { Cache, type CacheOptions } from '@redkit/cache';
import { driverFor } from '@redkit/core';
import { createAclUser } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, expect, it } from 'vitest';
import { keysOf, keysPerMaster, sleep } from './helpers.js';

describeTopologies('key replication', (t) => {
  const caches: Cache[] = [];
  afterAll(() => Promise.all(caches.map((cache) => cache.close())));
  const make = (namespace: string, extra: Partial<CacheOptions> = {}) => {
    const cache = new Cache({ redis: t.client(), namespace, ttl: '1m', replicas: 6, ...extra });
    caches.push(cache);
    return cache;
  };
  const versionOf = async (key: string) =>
    String(await driverFor(t.redis).command<string | null>('GET', [key])).split('|')[0];

  it('a set stores the primary entry and 6 copies with the same version, spread 2 per master', async () => {
    const namespace = `${t.namespace}:spread`;
    const cache = make(namespace);
    await cache.set('product:42', { price: 10 });
    const keys = await keysOf(t.redis, namespace);
    const copies = keys.filter((key) => key.endsWith(':r6'));
    expect(copies).toHaveLength(6);
    expect(keys).toContain(`${namespace}:{product%3A42}:e`);
    const primary = await versionOf(`${namespace}:{product%3A42}:e`);
    for (const copy of copies) expect(await versionOf(copy)).toBe(primary);
    if (t.topology === 'cluster') {
      // 6 copies over 3 masters, plus the primary entry on one of them.
      expect((await keysPerMaster(t.redis, namespace)).sort()).toEqual([2, 2, 3]);
    }
    for (let i = 0; i < 30; i++) expect(await cache.get('product:42')).toEqual({ price: 10 });
    expect(await cache.getMany(['product:42', 'none'])).toEqual([{ price: 10 }, undefined]);
  });

  it('a delete reaches every copy: no read serves the deleted value', async () => {
    const namespace = `${t.namespace}:delete`;
    const writer = make(namespace);
    const reader = make(namespace);
    await writer.set('k', 'v');
    expect(await reader.get('k')).toBe('v');
    expect(await writer.delete('k')).toBe(true);
    for (let i = 0; i < 30; i++) expect(await reader.get('k')).toBeUndefined();
    const keys = await keysOf(t.redis, namespace);
    const primary = await versionOf(`${namespace}:{k}:e`);
    for (const key of keys.filter((key) => key.endsWith(':r6'))) expect(await versionOf(key)).toBe(primary);
  });

  it('getOrSet loads once under one lease on the primary entry and fills the copies', async () => {
    const namespace = `${t.namespace}:load`;
    const four = [0, 1, 2, 3].map(() => make(namespace));
    let loads = 0;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (four[i % 4] as Cache).getOrSet('row', async () => {
          loads++;
          await sleep(50);
          return 'loaded';
        }),
      ),
    );
    expect(loads).toBe(1);
    expect(new Set(results)).toEqual(new Set(['loaded']));
    expect((await keysOf(t.redis, namespace)).filter((key) => key.endsWith(':r6'))).toHaveLength(6);
  });

  it('replication and pinning need no command beyond the documented ACL list', async () => {
    const namespace = `${t.namespace}:acl`;
    // docs/cache.md, "Server settings and ACL".
    const commands = ['evalsha', 'eval', 'time', 'get', 'mget', 'set', 'getrange', 'del', 'pttl', 'unlink', 'scan'];
    const user = await createAclUser(t.redis, {
      commands: [...commands, 'publish', 'subscribe', 'unsubscribe'],
      keys: [`${namespace}:*`],
      channels: [`${namespace}:invalidations`],
    });
    const cache = make(namespace, {
      redis: t.client({ username: user.username, password: user.password }),
      hotKeys: { threshold: 3 },
    });
    await cache.ready();
    expect(await cache.getOrSet('a', async () => 'A')).toBe('A');
    await cache.set('b', 'B');
    for (let i = 0; i < 5; i++) expect(await cache.getMany(['a', 'b'])).toEqual(['A', 'B']);
    expect(cache.hotKeys().map(({ key, pinned }) => [key, pinned])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect(await cache.delete('a')).toBe(true);
    expect(await cache.get('a')).toBeUndefined();
    await cache.clear();
  });

  it('a reader never observes a version older than one it already read, with a writer running', async () => {
    const namespace = `${t.namespace}:monotonic`;
    const writer = make(namespace);
    const readers = [0, 1, 2].map(() => make(namespace));
    await writer.set('counter', 0);
    let running = true;
    const violations: string[] = [];
    const reads = readers.map(() => 0);
    // Per reader instance, the highest value any of its callers has been returned so far.
    const highest = readers.map(() => -1);
    const reading = readers.flatMap((reader, r) =>
      // Two callers per instance: a read that starts after another caller got v must not return less.
      [0, 1].map(async () => {
        while (running) {
          const floor = highest[r] as number;
          const value = (await reader.get('counter')) as number;
          reads[r] = (reads[r] as number) + 1;
          if (value < floor) violations.push(`reader ${r} read ${value} after ${floor}`);
          highest[r] = Math.max(highest[r] as number, value);
        }
      }),
    );
    for (let value = 1; value <= 60; value++) await writer.set('counter', value);
    running = false;
    await Promise.all(reading);
    expect(violations).toEqual([]);
    expect(reads.every((count) => count > 20)).toBe(true);
    for (const reader of readers) expect(await reader.get('counter')).toBe(60);
  });
});
