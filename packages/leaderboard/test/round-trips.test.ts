import { Leaderboard } from '@redkit/leaderboard';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock, sleep } from './helpers.js';

/**
 * MONITOR shows every command a client sends, and marks the commands a Lua
 * script runs as coming from "lua", so it counts round trips exactly.
 */
describe('round trips', () => {
  let server: StandaloneRedis;
  let monitor: Redis;
  let seen: string[];
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

  /** The commands `run` sends (outside scripts) and runs inside scripts, once the scripts are loaded. */
  async function commandsOf(run: () => Promise<unknown>): Promise<{ sent: string[]; inScripts: string[] }> {
    await run(); // loads the scripts on this server
    await sleep(100);
    seen.length = 0;
    scripted.length = 0;
    await run();
    await sleep(200);
    return { sent: [...seen], inScripts: [...scripted] };
  }

  // Near the real time: period boards expire by the server's clock, retention after their period ends.
  const clock = new ManualClock(Date.now());
  let lb: Leaderboard<z.ZodObject<{ country: z.ZodString }>>;
  beforeAll(async () => {
    lb = new Leaderboard({
      redis: server.client(),
      namespace: 'trips',
      name: 'arena',
      periods: ['all-time', 'daily'],
      metadata: z.object({ country: z.string() }),
      rankStyle: 'dense',
      clock: clock.now,
    });
    for (let i = 0; i < 50; i++) await lb.submit(`m${i}`, i % 10, { metadata: { country: 'FR' } });
  });

  it('around(member, 5) is one command, metadata and ranks included', async () => {
    const { sent, inScripts } = await commandsOf(() => lb.around('m25', 5));
    expect(sent).toEqual(['evalsha']);
    expect(inScripts.sort()).toEqual(['hmget', 'zcard', 'zcount', 'zrange', 'zrevrank']);
  });

  it('submit to two boards with metadata is one command', async () => {
    const { sent } = await commandsOf(() => lb.submit('m1', 3, { metadata: { country: 'DE' } }));
    expect(sent).toEqual(['evalsha']);
  });

  it('a plain top(10) or ordinal rank is one plain command, no script', async () => {
    const plain = new Leaderboard({ redis: server.client(), namespace: 'trips', name: 'plain' });
    await plain.submit('a', 1);
    expect((await commandsOf(() => plain.top(10))).sent).toEqual(['zrange']);
    expect((await commandsOf(() => plain.rank('a'))).sent).toEqual(['zrevrank']);
  });

  it('every read is one command', async () => {
    for (const read of [
      () => lb.top(10),
      () => lb.page(2, 10),
      () => lb.rank('m3'),
      () => lb.score('m3'),
      () => lb.entry('m3'),
      () => lb.percentile('m3'),
      () => lb.count(),
      () => lb.top(10, { period: 'daily', at: clock.ms - 86_400_000 }),
    ]) {
      // A script, or a plain command where one suffices (score: ZSCORE, count: ZCARD).
      expect((await commandsOf(read)).sent).toHaveLength(1);
    }
  });

  it('a combined board is one command when built and one when cached', async () => {
    const week = lb.combine({ period: 'daily', from: clock.ms - 6 * 86_400_000, to: clock.ms, cache: '1h' });
    seen.length = 0;
    scripted.length = 0;
    await week.top(10);
    await sleep(200);
    expect(seen).toEqual(['evalsha']);
    expect(scripted).toContain('zunionstore');
    expect(await week.count()).toBe(50);
    const { sent, inScripts } = await commandsOf(() => week.around('m3', 5));
    expect(sent).toEqual(['evalsha']);
    expect(inScripts).not.toContain('zunionstore');
  });
});
