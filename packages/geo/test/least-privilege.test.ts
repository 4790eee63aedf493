import { GeoIndex } from '@redkit/geo';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';
import { z } from 'zod';
import { sleep } from './helpers.js';

/** The commands listed in docs/geo.md under "Server settings and ACL". */
const commands = [
  'evalsha',
  'eval',
  'time',
  'del',
  'pexpire',
  'geoadd',
  'geopos',
  'geodist',
  'geosearch',
  'geosearchstore',
  'zadd',
  'zrem',
  'zscore',
  'zcard',
  'zrange',
  'zrangebyscore',
  'hget',
  'hset',
  'hdel',
];

leastPrivilegeContract({
  name: 'geo',
  commands,
  run: async (redis, t) => {
    const index = new GeoIndex({
      redis,
      namespace: t.namespace,
      name: 'acl',
      ttl: 1_000,
      schema: z.object({ n: z.number() }),
    });
    const at = { lon: 8.54, lat: 47.37 };
    expect(await index.add('a', at, { metadata: { n: 1 } })).toBe(true);
    expect(await index.upsert('b', { lon: 8.55, lat: 47.37 })).toBe(true);
    expect(await index.near(at, { radius: 5, unit: 'km' })).toHaveLength(2);
    expect(await index.within({ box: { center: { member: 'a' }, width: 5, height: 5 }, unit: 'km' })).toHaveLength(2);
    const polygon = [
      { lon: 8.53, lat: 47.36 },
      { lon: 8.545, lat: 47.36 },
      { lon: 8.545, lat: 47.38 },
      { lon: 8.53, lat: 47.38 },
    ];
    expect(await index.within({ polygon })).toHaveLength(1);
    expect(await index.position('a')).not.toBeNull();
    expect(await index.get('a')).toMatchObject({ metadata: { n: 1 } });
    expect(await index.distance('a', 'b', 'km')).toBeGreaterThan(0);
    const snapshot = await index.snapshot(at, { radius: 5, unit: 'km' });
    expect(await index.page(snapshot.id)).toHaveLength(2);
    expect(await index.remove('b')).toBe(true);
    await sleep(1_200);
    expect(await index.evictStale()).toBe(1);
    await index.upsert('c', at);
    await index.clear();
    expect(await index.near(at, { radius: 5, unit: 'km' })).toEqual([]);
  },
});
