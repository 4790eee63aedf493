import { RedisUnavailableError } from '@redkit/core';
import { NotReplicatedError, ShardedCounter } from '@redkit/hotkeys';
import { type ReplicatedRedis, startReplicated } from '@redkit/testing';
import { redisDownContract } from '@redkit/testing/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

redisDownContract({
  build: (redis) => new ShardedCounter({ redis, name: 'down', shards: 4, timeout: 300 }),
  before: async (counter) => {
    await counter.increment();
  },
  calls: (counter) => [() => counter.increment(), () => counter.value(), () => counter.reset()],
  // The restarted server kept nothing (no persistence in the harness): the count starts again.
  recover: (counter) => counter.value(),
  verify: async (counter, value) => {
    expect(value).toBe(0);
    await counter.increment(2);
    expect(await counter.value()).toBe(2);
  },
});

describe.each(['sentinel', 'cluster'] as const)('a master killed in the middle of increments (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('with waitForReplicas: 1, no acknowledged increment is lost when the replica is promoted; none is ever counted twice', async () => {
    const counter = new ShardedCounter({
      redis: deployment.client(),
      name: 'failover',
      shards: 6,
      waitForReplicas: 1,
      waitTimeout: 500,
      timeout: 1_000,
    });
    // The same load without WAIT: what the master acknowledged may be lost, but nothing is ever counted twice.
    const plain = new ShardedCounter({ redis: deployment.client(), name: 'failover-plain', shards: 6, timeout: 1_000 });
    let plainAcknowledged = 0;
    let plainSent = 0;
    let acknowledged = 0;
    // Refused, timed out, or applied on the master without a replica's acknowledgement: may or may not count.
    let unknown = 0;
    let running = true;
    const workers = Array.from({ length: 8 }, async () => {
      while (running) {
        try {
          await counter.increment();
          acknowledged++;
        } catch (error) {
          if (!(error instanceof NotReplicatedError)) expect(error).toBeInstanceOf(RedisUnavailableError);
          unknown++;
          await sleep(20);
        }
      }
    });
    const plainWorkers = Array.from({ length: 4 }, async () => {
      while (running) {
        plainSent++;
        try {
          await plain.increment();
          plainAcknowledged++;
        } catch (error) {
          expect(error).toBeInstanceOf(RedisUnavailableError);
          await sleep(20);
        }
      }
    });
    await sleep(300);
    const before = acknowledged;
    // SIGKILL: the master gets no chance to hand over. Only what a replica acknowledged (WAIT) survives.
    const master = await deployment.masterOf(counter.keys[0] as string);
    await deployment.failover(master, { mode: 'kill' });
    await sleep(300);
    running = false;
    await Promise.all([...workers, ...plainWorkers]);
    expect(before).toBeGreaterThan(20);
    expect(acknowledged).toBeGreaterThan(before);
    const value = await counter.value();
    expect(value).toBeGreaterThanOrEqual(acknowledged);
    expect(value).toBeLessThanOrEqual(acknowledged + unknown);
    expect(plainAcknowledged).toBeGreaterThan(20);
    expect(await plain.value()).toBeLessThanOrEqual(plainSent);
  }, 120_000);
});
