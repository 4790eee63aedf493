import { type PolicyInput, RateLimiter } from '@redkit/ratelimit';
import { type ReplicatedRedis, type StandaloneRedis, startReplicated, startStandalone } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

const policies: PolicyInput[] = [{ algorithm: 'fixed-window', limit: 3, window: '1h', align: 'first-hit' }];

describe('Redis down', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  // Reconnect attempts stay shorter than the limiter's timeout, so a call made
  // while the server is down meets a refusal (unavailable) rather than the timeout.
  const limiterWith = (mode: 'open' | 'closed' | 'fallback') =>
    new RateLimiter({
      redis: server.client({ reconnect: { maxDelay: 50 } }),
      namespace: `down-${mode}`,
      policies,
      timeout: 200,
      failure: { mode },
    });

  it('killed: fail-open admits, fail-closed denies, fallback limits locally, each within the timeout', async () => {
    const open = limiterWith('open');
    const closed = limiterWith('closed');
    const fallback = limiterWith('fallback');
    await Promise.all([open.limit('warm'), closed.limit('warm'), fallback.limit('warm')]);
    await server.node.kill();
    try {
      const timed = async (limiter: RateLimiter) => {
        const started = Date.now();
        const result = await limiter.limit('user');
        return { result, ms: Date.now() - started };
      };
      const [o, c] = await Promise.all([timed(open), timed(closed)]);
      expect(o.result).toMatchObject({ allowed: true, decidedBy: 'fail-open', redisFailure: 'unavailable' });
      expect(c.result).toMatchObject({ allowed: false, decidedBy: 'fail-closed' });
      expect(c.result.retryAfterMs).toBeGreaterThan(0);
      for (const { ms } of [o, c]) expect(ms).toBeLessThan(1_000);

      const local = [];
      for (let i = 0; i < 5; i++) local.push(await fallback.limit('user'));
      expect(local.map((result) => result.decidedBy)).toEqual(Array(5).fill('fallback'));
      expect(local.map((result) => result.allowed)).toEqual([true, true, true, false, false]);
    } finally {
      await server.node.restart();
    }
    // Back on Redis once it returns (the restarted server has no state).
    let result = await fallback.limit('user');
    for (let i = 0; i < 20 && result.decidedBy !== 'redis'; i++) {
      await sleep(100);
      result = await fallback.limit('user');
    }
    expect(result.decidedBy).toBe('redis');
  });

  it('peek obeys the failure mode as limit does: open admits, closed denies, fallback asks the local limiter without consuming', async () => {
    const open = limiterWith('open');
    const closed = limiterWith('closed');
    const fallback = limiterWith('fallback');
    await Promise.all([open.limit('warm'), closed.limit('warm'), fallback.limit('warm')]);
    const failures: string[] = [];
    for (const limiter of [open, closed, fallback]) {
      limiter.events.on('redis-failure', ({ decidedBy }) => failures.push(decidedBy));
    }
    await server.node.kill();
    try {
      expect(await open.peek('peeker')).toMatchObject({
        allowed: true,
        decidedBy: 'fail-open',
        redisFailure: 'unavailable',
      });
      const denied = await closed.peek('peeker');
      expect(denied).toMatchObject({ allowed: false, decidedBy: 'fail-closed', redisFailure: 'unavailable' });
      expect(denied.retryAfterMs).toBeGreaterThan(0);

      // The local limiter (limit 3) took 2; peeking any number of times consumes nothing.
      expect((await fallback.limit('peeker')).decidedBy).toBe('fallback');
      expect((await fallback.limit('peeker')).decidedBy).toBe('fallback');
      for (let i = 0; i < 5; i++) {
        expect(await fallback.peek('peeker')).toMatchObject({ allowed: true, remaining: 1, decidedBy: 'fallback' });
      }
      expect((await fallback.limit('peeker')).allowed).toBe(true);
      expect(await fallback.peek('peeker')).toMatchObject({ allowed: false, decidedBy: 'fallback' });
      expect(failures).toEqual(expect.arrayContaining(['fail-open', 'fail-closed', 'fallback']));
    } finally {
      await server.node.restart();
    }
  });

  it('frozen: decisions arrive within the timeout and say it timed out', async () => {
    const open = limiterWith('open');
    await open.limit('warm');
    await server.node.pause();
    try {
      const started = Date.now();
      const result = await open.limit('user');
      expect(Date.now() - started).toBeLessThan(700);
      expect(result).toMatchObject({ allowed: true, decidedBy: 'fail-open', redisFailure: 'timeout' });
    } finally {
      await server.node.resume();
    }
  });
});

describe.each(['sentinel', 'cluster'] as const)('a master failover in the middle of load (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('keeps deciding, never throws, and returns to Redis after the promotion', async () => {
    const failures: string[] = [];
    const limiter = new RateLimiter({
      redis: deployment.client(),
      namespace: 'failover',
      policies: [{ algorithm: 'token-bucket', capacity: 1_000_000, refillRate: 1, interval: '1h' }],
      timeout: 300,
      failure: { mode: 'fallback' },
    });
    limiter.events.on('redis-failure', ({ reason }) => failures.push(reason));
    const subject = 'hot-user';
    const decided: string[] = [];
    let running = true;
    const workers = Array.from({ length: 8 }, async () => {
      while (running) decided.push((await limiter.limit(subject)).decidedBy);
    });
    await sleep(200);
    const master = await deployment.masterOf(`failover:{${subject}}`);
    await deployment.failover(master);
    await sleep(500);
    running = false;
    await Promise.all(workers);

    expect(decided.length).toBeGreaterThan(100);
    expect(decided.every((by) => by === 'redis' || by === 'fallback')).toBe(true);
    // The fault was seen, and the limiter came back to Redis afterwards.
    expect(failures.length).toBeGreaterThan(0);
    expect(decided.at(-1)).toBe('redis');
  }, 90_000);
});
