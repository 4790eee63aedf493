import { connect, type RedisConnection, RedisUnavailableError } from '@redkit/core';
import { type FencedLock, LockLostError, LockReplicationError, Mutex } from '@redkit/lock';
import { type ReplicatedRedis, type StandaloneRedis, startReplicated, startStandalone } from '@redkit/testing';
import { redisDownContract } from '@redkit/testing/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

describe('Redis paused (standalone)', () => {
  let server: StandaloneRedis;
  const mutexes: Mutex[] = [];
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(async () => {
    await Promise.all(mutexes.map((mutex) => mutex.close()));
    await server?.stop();
  });
  const mutex = (namespace: string, ttl: number) => {
    const created = new Mutex({ redis: server.client(), namespace, ttl, timeout: 300, wait: 500 });
    mutexes.push(created);
    return created;
  };

  it('withLock: when Redis freezes, the signal fires before the lease could have expired on Redis', async () => {
    const ttl = 1_500;
    const m = mutex('paused', ttl);
    // When each confirmed extension was sent: Redis set the new expiry no earlier than that.
    const confirmedSentAt: number[] = [];
    m.events.on('extended', ({ durationMs }) => confirmedSentAt.push(performance.now() - durationMs));
    let acquiredSentAt = 0;
    let pausedAt = 0;
    let abortedAt = 0;
    try {
      const result = m.withLock('job', async (signal) => {
        acquiredSentAt = performance.now();
        while (confirmedSentAt.length < 2) await sleep(20);
        await server.node.pause();
        pausedAt = performance.now();
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        abortedAt = performance.now();
        return 'finished';
      });
      const error = await result.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockLostError);
      expect((error as LockLostError).reason).toBe('validity');
    } finally {
      await server.node.resume();
    }
    expect(acquiredSentAt).toBeGreaterThan(0);
    // Fired after Redis stopped answering, not before …
    expect(abortedAt).toBeGreaterThan(pausedAt);
    // … and before the last lease Redis granted could have run out.
    const leaseEnd = Math.max(...confirmedSentAt) + ttl;
    expect(abortedAt).toBeLessThan(leaseEnd);
  }, 30_000);
});

/** The lock held when Redis goes down. */
let held: FencedLock;

redisDownContract({
  title:
    'Redis down: calls fail with RedisUnavailableError instead of hanging; a held lock stays valid until its validity ends',
  client: {},
  build: (redis) => new Mutex({ redis, namespace: 'down', ttl: 20_000, timeout: 300, wait: 500 }),
  before: async (m) => {
    held = await m.acquire('held');
  },
  calls: (m) => [
    () => m.acquire('other'),
    () => m.tryAcquire('other'),
    () => m.withLock('other', () => 'never'),
    () => held.extend(),
  ],
  whileDown: async () => {
    expect(held.isValid).toBe(true);
    await expect(held.release()).rejects.toBeInstanceOf(RedisUnavailableError);
  },
  // Back to normal after the restart (the restarted server has no data).
  recover: (m) => m.acquire('other'),
  verify: async (_m, lock) => {
    expect(lock?.isValid).toBe(true);
    expect(await lock?.release()).toBe('released');
  },
  close: (m) => m.close(),
  timeoutMs: 30_000,
});

describe.each(['sentinel', 'cluster'] as const)('a master failover with locks held (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  const mutexes: Mutex[] = [];
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(async () => {
    await Promise.all(mutexes.map((mutex) => mutex.close()));
    await deployment?.stop();
  });

  /** Retries a call while the deployment fails over; only RedisUnavailableError may happen meanwhile. */
  async function whenServed<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!(error instanceof RedisUnavailableError) || attempt > 100) throw error;
        await sleep(200);
      }
    }
  }

  it('a lock acknowledged by its replica (WAIT) survives; one that was not is lost, but fencing tokens still increase', async () => {
    const m = new Mutex({ redis: deployment.client(), namespace: 'failover', ttl: '60s', wait: 0 });
    const other = new Mutex({ redis: deployment.client(), namespace: 'failover', ttl: '60s', wait: 0 });
    mutexes.push(m, other);

    // Acknowledged by the replica before the failover.
    const replicated = await m.acquire('{f}:replicated', { replicas: { count: 1, timeout: 1_000 } });
    expect(replicated.replicas).toBe(1);

    // Cut replication: freeze the replica, drop its link. Writes from now on exist on the master only.
    const master = await deployment.masterOf('failover:{f}:x');
    const [replica] = await deployment.replicasOf(master);
    if (!replica) throw new Error('the master has no replica');
    await replica.pause();
    const admin: RedisConnection = connect(`redis://${master.address}`);
    let unreplicated: FencedLock;
    try {
      await admin.call('CLIENT', 'KILL', 'TYPE', 'replica');

      // Without WAIT the acquire succeeds: nothing tells it the replica never saw it.
      unreplicated = await m.acquire('{f}:unreplicated');
      // With WAIT, the missing acknowledgement is detected and the lock given back …
      const refused = await m.acquire('{f}:waited', { replicas: { count: 1, timeout: 200 } }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(LockReplicationError);
      expect(refused).toMatchObject({ acknowledged: 0, required: 1 });
      const free = await other.tryAcquire('{f}:waited');
      expect(free).not.toBeNull();
      await free?.release();
      // … or kept with the count, if asked to.
      const kept = await m.acquire('{f}:kept', { replicas: { count: 1, timeout: 200, onShortfall: 'keep' } });
      expect(kept.replicas).toBe(0);

      // The master crashes before the replica caught up; the replica takes over.
      await master.kill();
    } finally {
      admin.disconnect();
      await replica.resume();
    }
    for (let i = 0; ; i++) {
      const owner = await deployment.masterOf('failover:{f}:x').catch(() => undefined);
      if (owner === replica) break;
      if (i > 150) throw new Error('the replica was not promoted');
      await sleep(100);
    }

    // The replicated lock survived: nobody else can take it, and its holder can extend and release it.
    expect(await whenServed(() => other.tryAcquire('{f}:replicated'))).toBeNull();
    await whenServed(() => replicated.extend());

    // The unreplicated lock is gone: another client gets it (two holders now believe they hold it) …
    const successor = await whenServed(() => other.tryAcquire('{f}:unreplicated'));
    expect(successor).not.toBeNull();
    // … but its fencing token is greater than the lost holder's, so fenced storage rejects the stale holder.
    expect(successor?.fencingToken).toBeGreaterThan(unreplicated.fencingToken);
    // The stale holder learns it on its next extension or release, and never deletes the successor's lock.
    await expect(unreplicated.extend()).rejects.toMatchObject({ reason: 'taken' });
    expect(await unreplicated.release()).toBe('taken');
    expect(await other.tryAcquire('{f}:unreplicated')).toBeNull();

    expect(await replicated.release()).toBe('released');
    expect(await successor?.release()).toBe('released');
    // New locks work as before.
    const fresh = await m.acquire('{f}:fresh', { replicas: { count: 1, timeout: 1_000, onShortfall: 'keep' } });
    expect(fresh.isValid).toBe(true);
    await fresh.release();
  }, 90_000);
});
