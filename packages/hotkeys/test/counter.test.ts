import { mastersOf, ShardedCounter } from '@redkit/hotkeys';
import { connectWith } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import type { Cluster } from 'ioredis';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { expect, it, vi } from 'vitest';
import { keysOf } from './helpers.js';

describeTopologies('ShardedCounter', (t) => {
  it('sums increments of any size; shards spread evenly over the masters; reset() deletes them', async () => {
    const counter = new ShardedCounter({ redis: t.redis, namespace: t.namespace, name: 'basics', shards: 12 });
    expect(counter.keys).toHaveLength(12);
    for (const key of counter.keys) expect(key).toMatch(new RegExp(`^${t.namespace}:\\{basics#\\d+\\}:c$`));
    expect(await counter.value()).toBe(0);
    await counter.increment();
    await counter.increment(5);
    await counter.increment(-2);
    expect(await counter.value()).toBe(4);
    for (let index = 0; index < 100; index++) await counter.increment();
    expect(await counter.value()).toBe(104);
    const masters = await mastersOf(t.redis, counter.keys);
    const perMaster = new Map<string, number>();
    for (const master of masters) perMaster.set(master, (perMaster.get(master) ?? 0) + 1);
    expect([...perMaster.values()]).toEqual(t.topology === 'cluster' ? [4, 4, 4] : [12]);
    await counter.reset();
    expect(await counter.value()).toBe(0);
    expect(await keysOf(t.redis, `${t.namespace}:{basics`)).toEqual([]);
  });

  it('value() takes one round trip per master (one MGET standalone)', async () => {
    const redis = t.client();
    const counter = new ShardedCounter({ redis, namespace: t.namespace, name: 'trips', shards: 24 });
    for (let index = 0; index < 50; index++) await counter.increment(2);
    const pipelines = vi.spyOn(redis, 'pipeline');
    const calls = vi.spyOn(redis, 'call');
    try {
      expect(await counter.value()).toBe(100);
      if (t.topology === 'cluster') {
        expect(pipelines).toHaveBeenCalledTimes((redis as Cluster).nodes('master').length);
        expect(calls).not.toHaveBeenCalled();
      } else {
        expect(pipelines).not.toHaveBeenCalled();
        expect(calls.mock.calls.map((call) => call[0])).toEqual(['MGET']);
      }
    } finally {
      pipelines.mockRestore();
      calls.mockRestore();
    }
  });

  it('ttl: a shard expires ttl after its first increment; later increments do not extend it', async () => {
    const counter = new ShardedCounter({ redis: t.redis, namespace: t.namespace, name: 'ttl', shards: 1, ttl: '1h' });
    await counter.increment();
    const first = Number(await t.redis.pttl(counter.keys[0] as string));
    expect(first).toBeGreaterThan(3_500_000);
    expect(first).toBeLessThanOrEqual(3_600_000);
    await t.redis.pexpire(counter.keys[0] as string, 60_000);
    await counter.increment(3);
    expect(Number(await t.redis.pttl(counter.keys[0] as string))).toBeLessThanOrEqual(60_000);
    expect(await counter.value()).toBe(4);
  });

  it('waitForReplicas: an increment returns once a replica has it', async () => {
    // The standalone test server has no replica (WAIT reports 0 after waitTimeout); the others have one.
    const counter = new ShardedCounter({
      redis: t.redis,
      namespace: t.namespace,
      name: 'wait',
      shards: 6,
      waitForReplicas: 1,
      waitTimeout: 200,
    });
    if (t.replicas > 0) {
      for (let index = 0; index < 20; index++) await counter.increment();
      expect(await counter.value()).toBe(20);
    } else {
      const error = await counter.increment().catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'NotReplicatedError', code: 'E_HOTKEYS_NOT_REPLICATED', acknowledged: 0 });
      // Applied on the master all the same.
      expect(await counter.value()).toBe(1);
    }
  });

  it('exact under concurrency: increments from 4 clients at once sum exactly', async () => {
    // The acceptance on the cluster: 100,000 increments; fewer standalone.
    const total = t.topology === 'cluster' ? 100_000 : 20_000;
    const counters = Array.from(
      { length: 4 },
      () => new ShardedCounter({ redis: t.client(), namespace: t.namespace, name: 'concurrent', shards: 12 }),
    );
    let sent = 0;
    await Promise.all(
      counters.flatMap((counter) =>
        // 64 callers in flight per client.
        Array.from({ length: 64 }, async () => {
          while (sent < total) {
            sent++;
            await counter.increment();
          }
        }),
      ),
    );
    expect(sent).toBe(total);
    expect(await (counters[0] as ShardedCounter).value()).toBe(total);
    // Every shard took a share.
    const shards = await Promise.all((counters[0] as ShardedCounter).keys.map((key) => t.redis.get(key)));
    for (const value of shards) expect(Number(value)).toBeGreaterThan(0);
  }, 30_000);

  it('works with an ioredis 5 client too (slot map, pipelines per master)', async () => {
    const client = connectWith({ Redis: Redis5, Cluster: Cluster5 }, t.url);
    try {
      const counter = new ShardedCounter({ redis: client as never, namespace: t.namespace, name: 'v5', shards: 6 });
      await Promise.all(Array.from({ length: 60 }, () => counter.increment()));
      expect(await counter.value()).toBe(60);
      const masters = await mastersOf(client as never, counter.keys);
      expect(new Set(masters).size).toBe(t.topology === 'cluster' ? 3 : 1);
    } finally {
      client.disconnect();
    }
  });
});
