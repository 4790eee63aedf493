import { Leaderboard } from '@redkit/leaderboard';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';
import { z } from 'zod';
import { ManualClock } from './helpers.js';

/** The commands listed in packages/leaderboard/README.md and docs/leaderboard.md under "ACL". */
const commands = [
  'evalsha',
  'eval',
  'time',
  'get',
  'set',
  'del',
  'unlink',
  'exists',
  'pexpire',
  'pexpireat',
  'pexpiretime',
  'zadd',
  'zrem',
  'zscore',
  'zcard',
  'zcount',
  'zrange',
  'zrevrank',
  'zscan',
  'zunionstore',
  'zremrangebyrank',
  'zremrangebyscore',
  'hset',
  'hget',
  'hmget',
  'hdel',
];

leastPrivilegeContract({
  name: 'leaderboard',
  commands,
  run: async (redis, t) => {
    const clock = new ManualClock(Date.now() - 86_400_000);
    const lb = new Leaderboard({
      redis,
      namespace: t.namespace,
      name: 'acl',
      periods: ['daily', 'all-time'],
      policy: 'increment',
      rankStyle: 'dense',
      metadata: z.object({ team: z.string() }),
      clock: clock.now,
    });
    await lb.submit('alice', 5, { metadata: { team: 'red' } });
    await lb.submit('bob', 3);
    clock.ms += 86_400_000;
    await lb.submit('alice', 1);
    expect(await lb.top(10)).toHaveLength(1);
    expect(await lb.page(0, 10, { period: 'all-time' })).toHaveLength(2);
    expect(await lb.around('bob', 2, { period: 'all-time', rankStyle: 'competition' })).toHaveLength(2);
    expect(await lb.rank('alice')).toBe(1);
    expect(await lb.score('alice', { period: 'all-time' })).toBe(6);
    expect(await lb.entry('alice')).toMatchObject({ metadata: { team: 'red' } });
    expect(await lb.percentile('alice')).toBe(50);
    expect(await lb.count()).toBe(1);
    const week = lb.combine({ period: 'daily', from: clock.ms - 86_400_000, to: clock.ms });
    expect(await week.top(5)).toHaveLength(2);
    const exported = [];
    for await (const entry of lb.export({ period: 'all-time' })) exported.push(entry);
    expect(exported).toHaveLength(2);
    expect(await lb.trim(1, { period: 'all-time' })).toBe(1);
    expect(await lb.remove('alice')).toBeGreaterThan(0);
    await lb.reset({ period: 'daily' });
    await lb.reset();

    // Without the server-clock check too (TIME inside the submit script).
    const checked = new Leaderboard({ redis, namespace: t.namespace, name: 'acl-checked', periods: ['daily'] });
    expect(await checked.submit('carol', 2)).toMatchObject({ rank: 1 });
  },
});
