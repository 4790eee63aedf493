import { SessionStore } from '@redkit/session';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';

/** The commands listed in docs/session.md under "Server settings and ACL". */
const commands = [
  'evalsha',
  'eval',
  'time',
  'exists',
  'del',
  'set',
  'copy',
  'pexpire',
  'pexpireat',
  'pttl',
  'hget',
  'hmget',
  'hgetall',
  'hset',
  'hdel',
  'hkeys',
  'hincrby',
  'zadd',
  'zrem',
  'zrange',
  'zremrangebyscore',
  'scan',
];

leastPrivilegeContract({
  name: 'session',
  commands,
  run: async (redis, t) => {
    const sessions = new SessionStore({ redis, namespace: t.namespace });
    const { id } = await sessions.create('acl', { a: 1 });
    expect(await sessions.get(id, { touch: true })).toMatchObject({ data: { a: 1 } });
    expect(await sessions.touch(id)).toBe(true);
    expect(await sessions.update(id, { b: 2, a: undefined }, { version: 1 })).toEqual({
      status: 'updated',
      version: 2,
    });
    const rotated = await sessions.rotate(id);
    expect(rotated).not.toBeNull();
    expect(await sessions.list('acl')).toHaveLength(1);
    expect(await sessions.put('framework-id-0001', { x: 1 }, { userId: null })).toBe('written');
    expect(await sessions.put('framework-id-0001', { x: 2 }, { userId: 'acl', previous: { x: 1 } })).toBe('written');
    const ids: string[] = [];
    for await (const batch of sessions.scanIds()) ids.push(...batch);
    expect(ids.sort()).toEqual([rotated?.id, 'framework-id-0001'].sort());
    expect(await sessions.destroy('framework-id-0001')).toBe(true);
    expect(await sessions.destroyAll('acl')).toBe(1);
  },
});
