import { RedisUnavailableError } from '@redkit/core';
import { GeoIndex } from '@redkit/geo';
import { type ReplicatedRedis, startReplicated } from '@redkit/testing';
import { redisDownContract } from '@redkit/testing/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

const at = { lon: 2.35, lat: 48.85 };

redisDownContract({
  build: (redis) => new GeoIndex({ redis, name: 'down', ttl: '1m', timeout: 300 }),
  before: async (index) => {
    await index.upsert('a', at);
  },
  calls: (index) => [
    () => index.upsert('a', at),
    () => index.near(at, { radius: 1 }),
    () => index.within({ polygon: [at, { lon: 2.4, lat: 48.85 }, { lon: 2.4, lat: 48.9 }] }),
    () => index.snapshot(at, { radius: 1 }),
    () => index.position('a'),
    () => index.remove('a'),
  ],
  // The restarted server has no data and no scripts loaded; upsert is idempotent, so retrying is safe.
  recover: (index) => index.upsert('b', at),
  verify: async (index) => {
    expect((await index.near(at, { radius: 1 })).map((row) => row.member)).toEqual(['b']);
  },
});

describe.each(['sentinel', 'cluster'] as const)('a master failover in the middle of moves (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('writes succeed or fail with RedisUnavailableError; after a planned failover every acknowledged position is there', async () => {
    const index = new GeoIndex({ redis: deployment.client(), name: 'failover', timeout: 1_000 });
    const acknowledged = new Map<string, { lon: number; lat: number }>();
    let running = true;
    let step = 0;
    const workers = Array.from({ length: 4 }, async (_, worker) => {
      while (running) {
        const member = `w${worker}:${step % 50}`;
        const point = { lon: 2 + (step % 100) / 1000, lat: 48 + worker / 100 };
        step++;
        try {
          await index.upsert(member, point);
          acknowledged.set(member, point);
        } catch (error) {
          expect(error).toBeInstanceOf(RedisUnavailableError);
          // Refused or timed out: it may or may not have been applied; a later write settles the member.
          acknowledged.delete(member);
          await sleep(20);
        }
      }
    });
    await sleep(300);
    // A planned failover (CLUSTER FAILOVER) waits for the replica to catch up, so nothing acknowledged is lost.
    const master = await deployment.masterOf('geo:{failover}:points');
    await deployment.failover(master, { mode: 'manual' });
    await sleep(500);
    running = false;
    await Promise.all(workers);
    expect(acknowledged.size).toBeGreaterThan(20);
    const rows = await index.near({ lon: 2.05, lat: 48.02 }, { radius: 100, unit: 'km', limit: 10_000 });
    const found = new Map(rows.map((row) => [row.member, row]));
    for (const [member, point] of acknowledged) {
      const row = found.get(member);
      expect(row, member).toBeDefined();
      expect(Math.abs((row?.lon ?? 0) - point.lon)).toBeLessThan(1e-5);
    }
  }, 120_000);
});
