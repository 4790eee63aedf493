import { RateLimiter } from '@redkit/ratelimit';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

/**
 * MONITOR shows every command a client sends, and marks the commands a Lua
 * script runs as coming from "lua", so it counts round trips exactly.
 */
describe('round trips', () => {
  let server: StandaloneRedis;
  let monitor: Redis;
  let seen: string[];
  /** Commands run inside scripts. */
  let scripted: string[];
  beforeAll(async () => {
    server = await startStandalone();
    monitor = server.client();
    seen = [];
    scripted = [];
    const stream = await monitor.monitor();
    stream.on('monitor', (_time: string, args: string[], source: string) => {
      (source.includes('lua') ? scripted : seen).push(String(args[0]).toLowerCase());
    });
  });
  afterAll(() => server?.stop());

  it('one limit() is one command for any number of policies', async () => {
    const limiter = new RateLimiter({
      redis: server.client(),
      namespace: 'trips',
      policies: [
        { name: 'second', algorithm: 'fixed-window', limit: 10, window: '1s' },
        { name: 'day', algorithm: 'sliding-window', limit: 1000, window: '1d' },
        { name: 'bucket', algorithm: 'token-bucket', capacity: 20, refillRate: 5 },
        { name: 'log', algorithm: 'sliding-log', limit: 100, window: '1m' },
        { name: 'smooth', algorithm: 'gcra', limit: 50, period: '1s', burst: 10 },
        { name: 'inflight', algorithm: 'concurrency', limit: 5, leaseTtl: '30s' },
      ],
    });
    await limiter.limit('warm-up'); // loads the script on this connection
    await sleep(100);
    seen.length = 0;
    for (let i = 0; i < 25; i++) await limiter.limit(`user-${i % 3}`);
    await sleep(200);
    expect(seen).toEqual(Array(25).fill('evalsha'));
  });

  /** The commands one steady-state check runs inside its script, sorted. */
  async function scriptedCommandsOfOneCheck(limiter: RateLimiter, subject: string): Promise<string[]> {
    await limiter.limit(subject); // creates the state and loads the script
    await sleep(100);
    scripted.length = 0;
    await limiter.limit(subject);
    await sleep(200);
    return [...scripted].sort();
  }

  it('a fixed-window check runs only the commands the algorithm needs', async () => {
    const policies = [{ algorithm: 'fixed-window', limit: 100, window: '1m', align: 'first-hit' }] as const;
    const plain = new RateLimiter({ redis: server.client(), namespace: 'trips-plain', policies: [...policies] });
    // The same two commands as express-rate-limit's rate-limit-redis store.
    expect(await scriptedCommandsOfOneCheck(plain, 'u')).toEqual(['incrby', 'pttl']);
    const blocking = new RateLimiter({
      redis: server.client(),
      namespace: 'trips-blocks',
      policies: [...policies],
      blocks: true,
    });
    // `blocks` reads the block key first.
    expect(await scriptedCommandsOfOneCheck(blocking, 'u')).toEqual(['incrby', 'pttl', 'pttl']);
  });
});
