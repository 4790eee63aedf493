import { driverFor, RedisUnavailableError } from '@redkit/core';
import { type ReplicatedRedis, type StandaloneRedis, startReplicated, startStandalone } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCounter } from './fixtures/scripts.js';

describe.each(['sentinel', 'cluster'] as const)('scripts across a failover (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('keep working after the master of their key was killed and replaced', async () => {
    const redis = deployment.client();
    const db = driverFor(redis);
    const key = 'faults:{failover}:n';
    await db.script(addCounter, [key], [1]);
    // Make sure the replica has the value before the master dies.
    await db.command('WAIT', [1, 1_000]);
    const master = await deployment.masterOf(key);

    const { promoted } = await deployment.failover(master);

    // The promoted replica never loaded the script: the client loads it there.
    await expect
      .poll(async () => (await db.script(addCounter, [key], [1]).catch(() => [0]))[0], { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    expect(await deployment.masterOf(key)).toBe(promoted);
  }, 90_000);

  it('fail within the deadline, instead of hanging, while every node is down', async () => {
    const redis = deployment.client({ commandTimeout: 500 });
    const db = driverFor(redis);
    await db.script(addCounter, ['faults:{down}:n'], [1]);
    const nodes = deployment.nodes;
    await Promise.all(nodes.map((node) => node.pause()));
    try {
      const started = Date.now();
      await expect(db.script(addCounter, ['faults:{down}:n'], [1])).rejects.toBeInstanceOf(RedisUnavailableError);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await Promise.all(nodes.map((node) => node.resume()));
      await deployment.waitHealthy();
    }
  }, 90_000);
});

describe('a standalone server going away', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  it('fails calls with RedisUnavailableError within the command timeout, then recovers', async () => {
    // Reconnect attempts stay shorter than the command timeout however long the
    // kill took (a container's takes ~0.5 s), so a queued call meets a refusal.
    const redis = server.client({ commandTimeout: 300, reconnect: { maxDelay: 100 } });
    const db = driverFor(redis);
    await db.script(addCounter, ['faults:{k}:n'], [1]);
    let readyAgain = false;
    db.onReady(() => {
      readyAgain = true;
    });

    await server.node.kill();
    const started = Date.now();
    await expect(db.script(addCounter, ['faults:{k}:n'], [1])).rejects.toBeInstanceOf(RedisUnavailableError);
    // Refused connections are not timeouts: the command never ran.
    await expect(db.script(addCounter, ['faults:{k}:n'], [1])).rejects.toMatchObject({ timedOut: false });
    expect(Date.now() - started).toBeLessThan(1_500);

    await server.node.restart();
    // The restarted server lost its data and its scripts (nothing is persisted).
    await expect.poll(() => readyAgain, { timeout: 5_000 }).toBe(true);
    expect((await db.script(addCounter, ['faults:{k}:n'], [1]))[0]).toBe(1);
  });
});
