import { Cache } from '@redkit/cache';
import { connect, driverFor, keySlot, type RedisConnection } from '@redkit/core';
import { type RedisCluster, type RedisSentinel, startCluster, startSentinel } from '@redkit/testing';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sleep } from './helpers.js';

/** GET calls served by each node of `role`, from its own `INFO commandstats`, by node address. */
async function getCalls(client: Cluster, role: 'master' | 'slave'): Promise<Map<string, number>> {
  const calls = new Map<string, number>();
  await Promise.all(
    client.nodes(role).map(async (node) => {
      const info = String(await driverFor(node as unknown as RedisConnection).command('INFO', ['commandstats']));
      const match = /^cmdstat_get:calls=(\d+)/m.exec(info);
      calls.set(`${node.options.host}:${node.options.port}`, Number(match?.[1] ?? 0));
    }),
  );
  return calls;
}

const deltas = (before: Map<string, number>, after: Map<string, number>) =>
  [...after].map(([node, calls]) => calls - (before.get(node) ?? 0));

/**
 * On its own cluster (3 masters + 3 replicas): nothing else runs commands
 * there, so each node's command counters are this file's work alone.
 */
describe('hot-key load distribution and replica reads (own cluster)', () => {
  let cluster: RedisCluster;
  let admin: Cluster;
  const caches: Cache[] = [];
  beforeAll(async () => {
    cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
    admin = cluster.client();
    await driverFor(admin).masters();
  });
  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await cluster?.stop();
  });

  const hammer = async (cache: Cache, key: string, reads: number) => {
    // 8 callers in flight, like a busy process.
    let left = reads;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (left-- > 0) expect(await cache.get(key)).toBe('hot value');
      }),
    );
  };

  it('without replication every read of a hot key goes to one master; with replicas: 6 each master gets a share, the busiest at most 1.5× the least busy', async () => {
    const plain = new Cache({ redis: cluster.client(), namespace: 'plain', ttl: '1m' });
    const spread = new Cache({ redis: cluster.client(), namespace: 'spread', ttl: '1m', replicas: 6 });
    caches.push(plain, spread);
    await plain.set('product:42', 'hot value');
    await spread.set('product:42', 'hot value');

    let before = await getCalls(admin, 'master');
    await hammer(plain, 'product:42', 600);
    const single = deltas(before, await getCalls(admin, 'master')).sort((a, b) => a - b);
    expect(single).toEqual([0, 0, 600]);

    before = await getCalls(admin, 'master');
    await hammer(spread, 'product:42', 1_200);
    const shares = deltas(before, await getCalls(admin, 'master'));
    // Every read is one GET of a copy (no copy is behind: a fallback to the primary would add one).
    expect(shares.reduce((sum, calls) => sum + calls, 0)).toBe(1_200);
    expect(Math.min(...shares)).toBeGreaterThan(0);
    expect(Math.max(...shares) / Math.min(...shares)).toBeLessThanOrEqual(1.5);
  });

  it('replicated writes: while some copies are behind (their master pauses writes), a reader never goes back to an older value', async () => {
    const writer = new Cache({ redis: cluster.client(), namespace: 'monotonic', ttl: '1m', replicas: 6 });
    const reader = new Cache({ redis: cluster.client(), namespace: 'monotonic', ttl: '1m', replicas: 6 });
    caches.push(writer, reader);
    await writer.set('k', 0);
    expect(await reader.get('k')).toBe(0);
    // Pause writes on a master that holds 2 copies but not the primary entry: the write's
    // primary entry and 4 copies are updated at once, those 2 copies only when the pause ends.
    const primaryMaster = await cluster.masterOf('monotonic:{k}:e');
    const paused = admin
      .nodes('master')
      .find((node) => `${node.options.host}:${node.options.port}` !== primaryMaster.address);
    await driverFor(paused as unknown as RedisConnection).command('CLIENT', ['PAUSE', 300, 'WRITE']);
    let done = false;
    const writing = writer.set('k', 1).finally(() => {
      done = true;
    });
    const values: unknown[] = [];
    while (!done) values.push(await reader.get('k'));
    await writing;
    values.push(await reader.get('k'));
    const first = values.indexOf(1);
    expect(first).toBeGreaterThanOrEqual(0);
    // Reads went on during the pause (a third of them reached a copy still holding 0).
    expect(values.length - first).toBeGreaterThan(20);
    expect(values.slice(first).filter((value) => value !== 1)).toEqual([]);
  });

  it('readRedis with scaleReads "slave": GETs are served by the replicas, never going back to an older version', async () => {
    const readRedis = cluster.client({ ioredis: { scaleReads: 'slave' } });
    await driverFor(readRedis).masters();
    // The read client's slot map must name a replica for the key's slot (else it reads from the
    // master). CLUSTER SLOTS lists a replica only while it is linked to its master, which the
    // pause of the test before can interrupt for a moment: reload the map until it does.
    const slot = keySlot('replica-reads:{k}:e');
    await vi.waitFor(
      async () => {
        if ((readRedis.slots[slot]?.length ?? 0) < 2) {
          await new Promise<void>((resolve) => readRedis.refreshSlotsCache(() => resolve()));
        }
        expect(readRedis.slots[slot]).toHaveLength(2);
      },
      { timeout: 10_000, interval: 100 },
    );
    const cache = new Cache({ redis: cluster.client(), readRedis, namespace: 'replica-reads', ttl: '1m' });
    caches.push(cache);
    await cache.set('k', 'hot value');
    // Replication is asynchronous: wait until the replica has the write (a read older than the
    // write goes to the master instead, so the value is right either way).
    for (let i = 0; i < 200; i++) {
      const master = await getCalls(admin, 'master');
      expect(await cache.get('k')).toBe('hot value');
      if (deltas(master, await getCalls(admin, 'master')).every((calls) => calls === 0)) break;
      await sleep(5);
    }
    const masters = await getCalls(admin, 'master');
    // The admin client reads only from masters, so it opens no replica connections: ask the read client's.
    const replicas = await getCalls(readRedis, 'slave');
    await hammer(cache, 'k', 200);
    expect(deltas(masters, await getCalls(admin, 'master'))).toEqual([0, 0, 0]);
    // All on the replica of the key's master (the client connects to other replicas only when it needs them).
    const served = deltas(replicas, await getCalls(readRedis, 'slave'));
    expect(served.reduce((sum, calls) => sum + calls, 0)).toBe(200);
    expect(Math.max(...served)).toBe(200);

    // A write: until its replica catches up, reads fall back to the master (the floor), never the old value.
    await cache.set('k', 'new value');
    for (let i = 0; i < 50; i++) expect(await cache.get('k')).toBe('new value');
  });
  // Last: it kills a master (the cluster is stopped after this file).
  it('with a master holding copies killed, every read still returns the value (from the primary entry)', async () => {
    const cache = new Cache({
      redis: cluster.client({ commandTimeout: 500 }),
      namespace: 'down',
      ttl: '1m',
      replicas: 6,
    });
    caches.push(cache);
    await cache.set('k', 'hot value');
    const primaryMaster = await cluster.masterOf('down:{k}:e');
    const victim = (await cluster.masters()).find((node) => node !== primaryMaster);
    await victim?.kill();
    let loads = 0;
    const errors: unknown[] = [];
    cache.events.on('redis-error', ({ error }) => errors.push(error));
    const values = await Promise.all(
      Array.from({ length: 60 }, () =>
        cache.getOrSet('k', async () => {
          loads++;
          return 'reloaded';
        }),
      ),
    );
    expect(new Set(values)).toEqual(new Set(['hot value']));
    expect(loads).toBe(0);
    // About a third of the reads picked a copy on the dead master and fell back.
    expect(errors.length).toBeGreaterThan(0);
  });
});

/** GET calls a node has served, from its own `INFO commandstats`. */
async function getCallsOf(node: { host: string; port: number }): Promise<number> {
  const redis = connect({ host: node.host, port: node.port, lazyConnect: true });
  try {
    const info = String(await redis.info('commandstats'));
    return Number(/^cmdstat_get:calls=(\d+)/m.exec(info)?.[1] ?? 0);
  } finally {
    redis.disconnect();
  }
}

describe('readRedis on a Sentinel replica connection (role=replica)', () => {
  let setup: RedisSentinel;
  beforeAll(async () => {
    setup = await startSentinel();
  });
  afterAll(() => setup?.stop());

  it('GETs are served by the replica once it has the write, and a reader never goes back to an older value', async () => {
    const cache = new Cache({
      redis: setup.client(),
      readRedis: setup.client({ role: 'replica' }),
      namespace: 'sentinel-reads',
      ttl: '1m',
    });
    try {
      const primary = await setup.primary();
      const [replica] = await setup.replicas();
      if (!replica) throw new Error('no replica');
      await cache.set('k', 'hot value');
      // Until the replica has the write, reads go to the primary (the version floor); wait for that to end.
      await vi.waitFor(
        async () => {
          const before = await getCallsOf(primary);
          expect(await cache.get('k')).toBe('hot value');
          expect(await getCallsOf(primary)).toBe(before);
        },
        { timeout: 5_000, interval: 20 },
      );
      const [primaryBefore, replicaBefore] = [await getCallsOf(primary), await getCallsOf(replica)];
      for (let i = 0; i < 100; i++) expect(await cache.get('k')).toBe('hot value');
      expect(await getCallsOf(primary)).toBe(primaryBefore);
      expect((await getCallsOf(replica)) - replicaBefore).toBe(100);
      // A write: until the replica catches up, reads fall back to the primary, never the old value.
      for (let round = 0; round < 20; round++) {
        await cache.set('k', `value ${round}`);
        for (let i = 0; i < 5; i++) expect(await cache.get('k')).toBe(`value ${round}`);
      }
    } finally {
      await cache.close();
    }
  });
});
