import { Cache } from '@redkit/cache';
import { type ReplicatedRedis, type StandaloneRedis, startReplicated, startStandalone } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe.each(['killed', 'paused'] as const)('Redis %s (standalone)', (fault) => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  it('every getOrSet still returns the loader’s value within the timeouts, and Redis is used again after recovery', async () => {
    const cache = new Cache({
      redis: server.client({ commandTimeout: 1_000 }),
      timeout: 200,
      ttl: '1m',
      l1: { maxEntries: 100 },
      breaker: { failures: 3, cooldown: 500 },
    });
    await cache.ready();
    const breaker: string[] = [];
    cache.events.on('breaker-open', () => breaker.push('open'));
    cache.events.on('breaker-close', () => breaker.push('close'));
    expect(await cache.getOrSet('warm', async () => 'from redis')).toBe('from redis');
    if (fault === 'killed') await server.node.kill();
    else await server.node.pause();
    try {
      const durations: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        expect(await cache.getOrSet(`k${i}`, async () => `loaded ${i}`)).toBe(`loaded ${i}`);
        durations.push(performance.now() - started);
      }
      // Each call waits at most one Redis timeout (200 ms) plus slack; once the breaker is open, none.
      expect(Math.max(...durations)).toBeLessThan(1_500);
      expect(breaker).toContain('open');
      const afterOpen = durations.slice(5);
      expect(afterOpen.filter((ms) => ms < 50).length).toBeGreaterThan(10);
      // The memory tier still answers what it holds.
      expect(await cache.getOrSet('warm', async () => 'reloaded')).toBe('from redis');
      // Writes fail fast and say why.
      await expect(cache.set('x', 1)).rejects.toThrow();
    } finally {
      if (fault === 'killed') await server.node.restart();
      else await server.node.resume();
    }
    // After the cooldown one call probes Redis; success closes the breaker and values are stored again.
    let stored = false;
    for (let attempt = 0; attempt < 50 && !stored; attempt++) {
      await sleep(200);
      await cache.getOrSet(`after${attempt}`, async () => 'value');
      stored = (await cache.has(`after${attempt}`)) && breaker.at(-1) === 'close';
    }
    expect(stored).toBe(true);
    await cache.close();
  }, 60_000);
});

describe.each(['sentinel', 'cluster'] as const)('a master failover in the middle of loads (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('keeps serving: every getOrSet returns the right value during and after a failover', async () => {
    const cache = new Cache({
      redis: deployment.client(),
      timeout: 1_000,
      ttl: '1m',
      breaker: { failures: 5, cooldown: 1_000 },
    });
    let running = true;
    let calls = 0;
    const wrong: string[] = [];
    const workers = Array.from({ length: 4 }, async (_, worker) => {
      let i = 0;
      while (running) {
        const key = `w${worker}:${i++ % 40}`;
        const value = await cache.getOrSet(key, async () => `value of ${key}`);
        if (value !== `value of ${key}`) wrong.push(`${key}: ${String(value)}`);
        calls++;
        // While the breaker is open a call does no I/O at all; let timers run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    await sleep(300);
    const master = await deployment.masterOf('cache:{w0:1}:e');
    await deployment.failover(master, { mode: 'kill' });
    await sleep(1_000);
    running = false;
    await Promise.all(workers);
    expect(wrong).toEqual([]);
    expect(calls).toBeGreaterThan(100);
    // After the failover (and the breaker's cooldown, if it opened) the promoted master serves and
    // stores: scripts are reloaded there on NOSCRIPT.
    let stored = false;
    for (let attempt = 0; attempt < 40 && !stored; attempt++) {
      stored = await cache.set('after', 'ok').then(
        () => true,
        async () => {
          await sleep(250);
          return false;
        },
      );
    }
    expect(stored).toBe(true);
    expect(await cache.get('after')).toBe('ok');
    await cache.close();
  }, 120_000);
});
