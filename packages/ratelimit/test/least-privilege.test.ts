import { type PolicyInput, RateLimiter } from '@redkit/ratelimit';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';

/** The commands listed in packages/ratelimit/README.md under "ACL". */
const commands = [
  'evalsha',
  'eval',
  'time',
  'get',
  'set',
  'incrby',
  'decrby',
  'pttl',
  'pexpire',
  'hmget',
  'hget',
  'hset',
  'zadd',
  'zcard',
  'zrange',
  'zrem',
  'zremrangebyscore',
  'zpopmax',
  'del',
  'unlink',
];

const policies: PolicyInput[] = [
  { name: 'fixed', algorithm: 'fixed-window', limit: 3, window: '1h' },
  { name: 'first', algorithm: 'fixed-window', limit: 3, window: '1h', align: 'first-hit' },
  { name: 'sliding', algorithm: 'sliding-window', limit: 3, window: '1h' },
  { name: 'log', algorithm: 'sliding-log', limit: 3, window: '1h' },
  { name: 'bucket', algorithm: 'token-bucket', capacity: 3, refillRate: 1, interval: '1h' },
  { name: 'gcra', algorithm: 'gcra', limit: 1, period: '1h', burst: 3 },
  { name: 'leases', algorithm: 'concurrency', limit: 3, leaseTtl: '1h' },
];

leastPrivilegeContract({
  name: 'ratelimit',
  commands,
  channels: () => ['*'],
  title: 'every operation works with exactly the documented commands',
  run: async (redis, t) => {
    const limiter = new RateLimiter({
      redis,
      namespace: t.namespace,
      policies,
      penalty: { threshold: 1, block: '1s' },
      failure: { mode: 'closed' },
    });
    const first = await limiter.limit('u', { cost: 3 });
    expect(first.decidedBy).toBe('redis');
    expect(first.allowed).toBe(true);
    await first.lease?.release();
    const denied = await limiter.limit('u');
    expect(denied.decidedBy).toBe('redis');
    expect(denied.blockedForMs).toBe(1_000);
    await limiter.refund('u', { cost: 1 });
    expect((await limiter.peek('other')).decidedBy).toBe('redis');
    await limiter.block('u', '1s');
    await limiter.reset('u');
    expect((await limiter.limit('u')).allowed).toBe(true);
  },
});
