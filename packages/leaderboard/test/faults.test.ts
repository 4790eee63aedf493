import { RedisUnavailableError } from '@redkit/core';
import { Leaderboard } from '@redkit/leaderboard';
import { type ReplicatedRedis, startReplicated } from '@redkit/testing';
import { redisDownContract } from '@redkit/testing/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

redisDownContract({
  build: (redis) =>
    new Leaderboard({ redis, name: 'down', periods: ['all-time', 'daily'], policy: 'increment', timeout: 300 }),
  before: async (lb) => {
    await lb.submit('alice', 1);
  },
  calls: (lb) => [
    () => lb.submit('alice', 1),
    () => lb.top(10),
    () => lb.around('alice', 5),
    () => lb.rank('alice'),
    () => lb.count(),
    () => lb.remove('alice'),
  ],
  // The restarted server has no data (and no scripts loaded): submits work again. A submit that
  // timed out may still run once the connection is back (its outcome is unknown), so the retries
  // here use an idempotent policy.
  recover: (lb) => lb.submit('bob', 5, { policy: 'replace' }),
  verify: async (lb, result) => {
    expect(result).toMatchObject({ score: 5 });
    expect(await lb.entry('bob')).toMatchObject({ score: 5 });
  },
});

describe.each(['sentinel', 'cluster'] as const)('a master failover in the middle of increments (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('increments succeed or fail with RedisUnavailableError; after a planned failover no acknowledged one is lost', async () => {
    const lb = new Leaderboard({ redis: deployment.client(), name: 'failover', policy: 'increment', timeout: 1_000 });
    let acknowledged = 0;
    let unknown = 0;
    let running = true;
    const workers = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          await lb.submit('hero', 1);
          acknowledged++;
        } catch (error) {
          expect(error).toBeInstanceOf(RedisUnavailableError);
          // Refused or timed out: it may or may not have been applied.
          unknown++;
          await sleep(20);
        }
      }
    });
    await sleep(300);
    // A planned failover (CLUSTER FAILOVER) waits for the replica to catch up, so nothing acknowledged is lost.
    const master = await deployment.masterOf('leaderboard:{failover}:all');
    await deployment.failover(master, { mode: 'manual' });
    await sleep(500);
    running = false;
    await Promise.all(workers);
    const score = (await lb.score('hero')) as number;
    expect(acknowledged).toBeGreaterThan(50);
    expect(score).toBeGreaterThanOrEqual(acknowledged);
    expect(score).toBeLessThanOrEqual(acknowledged + unknown);
    // The promoted master serves reads and writes (scripts are reloaded there on NOSCRIPT).
    expect(await lb.submit('hero', 1)).toMatchObject({ score: score + 1, rank: 1 });
  }, 120_000);
});
