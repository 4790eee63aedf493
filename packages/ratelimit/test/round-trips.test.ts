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
  beforeAll(async () => {
    server = await startStandalone();
    monitor = server.client();
    seen = [];
    const stream = await monitor.monitor();
    stream.on('monitor', (_time: string, args: string[], source: string) => {
      if (!source.includes('lua')) seen.push(String(args[0]).toLowerCase());
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
});
