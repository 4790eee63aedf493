import { Cache } from '@redkit/cache';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';

/** The commands listed in docs/cache.md under "Server settings and ACL". */
const commands = [
  'evalsha',
  'eval',
  'time',
  'get',
  'mget',
  'set',
  'getrange',
  'del',
  'pttl',
  'unlink',
  'scan',
  'publish',
  'subscribe',
  'unsubscribe',
  'spublish',
  'ssubscribe',
  'sunsubscribe',
];

leastPrivilegeContract({
  name: 'cache',
  commands,
  channels: (namespace) => [`${namespace}:invalidations*`],
  title: 'every operation works with exactly the documented commands, keys and channel',
  run: async (redis, t) => {
    const cache = new Cache({ redis, namespace: t.namespace, l1: { maxEntries: 100 }, negativeTtl: 1_000 });
    await cache.ready();
    expect(await cache.getOrSet('a', async () => 'A', { tags: ['t'] })).toBe('A');
    expect(await cache.getOrSet('missing', async () => undefined)).toBeUndefined();
    await cache.set('b', 'B');
    expect(await cache.getMany(['a', 'b'])).toEqual(['A', 'B']);
    expect(await cache.getOrSetMany(['b', 'c'], async (keys) => new Map(keys.map((key) => [key, key])))).toEqual([
      'B',
      'c',
    ]);
    expect(await cache.has('a')).toBe(true);
    await cache.invalidateTags(['t']);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.writeThrough('d', 'D', async () => 'saved')).toBe('saved');
    expect(await cache.delete('d')).toBe(true);
    await cache.clear();
    expect(await cache.get('b')).toBeUndefined();
    await cache.close();
  },
});
