import { RedisUnavailableError } from '@redkit/core';
import { type Lock, LockBusyError, LockLostError } from '@redkit/lock';
import { QuorumUnavailableError, type RedlockEvents, RedlockMutex } from '@redkit/lock/redlock';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

/**
 * The Redlock adapter on three private standalone servers with one or two of
 * them killed or frozen (SIGSTOP). Each test brings every server back.
 */
let servers: StandaloneRedis[] = [];
let admins: Redis[] = [];
const instances: RedlockMutex[] = [];
/** Bound on each call to one instance: what a frozen instance costs a call that needs its answer. */
const timeout = 1_000;

beforeAll(async () => {
  servers = await Promise.all([startStandalone(), startStandalone(), startStandalone()]);
  admins = servers.map((server) => server.client());
});
afterEach(async () => {
  await Promise.all(
    servers.map(async ({ node }) => {
      if (node.paused) await node.resume();
      if (!node.running) await node.restart();
    }),
  );
  // The admin connections reconnect with backoff after a restart: wait until each answers again.
  await Promise.all(
    admins.map(async (admin) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await admin.ping();
        } catch (error) {
          if (attempt > 50) throw error;
          await sleep(100);
        }
      }
    }),
  );
});
afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.close()));
  await Promise.all(servers.map((server) => server.stop()));
});

const redlock = (namespace: string, ttl = 5_000) => {
  const created = new RedlockMutex({
    clients: servers.map((server) => server.client()),
    namespace,
    ttl,
    wait: 1_000,
    timeout,
    retry: { minDelay: 20, maxDelay: 100 },
  });
  instances.push(created);
  return created;
};
const address = (index: number) => `${servers[index]?.host}:${servers[index]?.port}`;

/** Resolves with how long `call` took (ms) and what it resolved or rejected with. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await call();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('one of three instances down', () => {
  it('acquire, extend and release still reach a quorum (2 of 3); failures name the dead instance', async () => {
    // A namespace of its own per run: a retry of this test must not find the lock of the first try.
    const namespace = `one-down-${Date.now()}`;
    const m = redlock(namespace);
    const other = redlock(namespace);
    const failures: RedlockEvents['redis-failure'][] = [];
    m.events.on('redis-failure', (event) => failures.push(event));
    await (servers[2] as StandaloneRedis).node.kill();

    const acquired = await timed(() => m.acquire('job'));
    expect(acquired.error).toBeUndefined();
    const lock = acquired.value as Lock;
    expect(acquired.ms).toBeLessThan(1_000);
    expect(lock.isValid).toBe(true);
    expect(await (admins[0] as Redis).get(`${namespace}:{job}:lock`)).toBe(lock.token);
    expect(await (admins[1] as Redis).get(`${namespace}:{job}:lock`)).toBe(lock.token);

    // Still exclusive: no live instance grants it. Any two refusals settle an
    // attempt (both busy votes, or one and the dead instance's failure), so
    // the third may not have answered yet: it is pending, and a live instance
    // is never counted unreachable.
    expect(await other.tryAcquire('job')).toBeNull();
    const busy = (await other.acquire('job', { wait: 150 }).catch((e: unknown) => e)) as LockBusyError;
    expect(busy).toBeInstanceOf(LockBusyError);
    for (const vote of busy.quorum?.votes ?? []) {
      expect(vote.granted).toBe(0);
      expect(vote.busy).toBeGreaterThanOrEqual(1);
      expect(vote.unreachable).toBeLessThanOrEqual(1);
      expect(vote.busy + vote.unreachable).toBeGreaterThanOrEqual(2);
      expect(vote.busy + vote.unreachable + vote.pending).toBe(3);
    }

    await lock.extend();
    expect(await lock.release()).toBe('released');
    for (let i = 0; i < 150 && failures.length < 3; i++) await sleep(20);
    expect(new Set(failures.map((failure) => failure.instance))).toEqual(new Set([address(2)]));
    expect(new Set(failures.map((failure) => failure.operation))).toEqual(new Set(['acquire', 'extend', 'release']));
  });
});

describe('two of three instances down', () => {
  it('calls fail with QuorumUnavailableError naming both, within the timeouts; withLock keeps fn’s error', async () => {
    const m = redlock('two-down', 10_000);
    const held = await m.acquire('held');

    // Both die while fn runs; fn fails too. fn's error wins, the failed release is attached.
    const business = new Error('business');
    const rejection = await m
      .withLock('job', async () => {
        await Promise.all([servers[1]?.node.kill(), servers[2]?.node.kill()]);
        throw business;
      })
      .catch((e: unknown) => e);
    expect(rejection).toBe(business);
    const releaseError = (rejection as { releaseError?: unknown }).releaseError;
    expect(releaseError).toBeInstanceOf(QuorumUnavailableError);

    const tried = await timed(() => m.tryAcquire('other'));
    expect(tried.error).toBeInstanceOf(QuorumUnavailableError);
    expect(tried.error).toBeInstanceOf(RedisUnavailableError);
    expect((tried.error as QuorumUnavailableError).unreachable).toEqual(
      expect.arrayContaining([address(1), address(2)]),
    );
    expect((tried.error as QuorumUnavailableError).unreachable).not.toContain(address(0));
    expect((tried.error as Error).message).toContain('2 of 3 Redis instances unreachable, a quorum needs 2');
    expect(tried.ms).toBeLessThan(timeout * 3);

    // acquire keeps trying for its wait, then gives the same error.
    const waited = await timed(() => m.acquire('other', { wait: 400 }));
    expect(waited.error).toBeInstanceOf(QuorumUnavailableError);
    expect(waited.ms).toBeGreaterThanOrEqual(400);
    expect(waited.ms).toBeLessThan(400 + timeout * 3);

    // A lock held before stays valid until its validity ends; it can be neither extended nor released now.
    await expect(held.extend()).rejects.toBeInstanceOf(QuorumUnavailableError);
    expect(held.isValid).toBe(true);
    await expect(held.release()).rejects.toBeInstanceOf(QuorumUnavailableError);

    // Back once they return (restarted empty).
    await Promise.all([servers[1]?.node.restart(), servers[2]?.node.restart()]);
    let lock: Lock | undefined;
    for (let i = 0; i < 50 && !lock; i++) {
      lock = await m.acquire('other').catch(async () => {
        await sleep(100);
        return undefined;
      });
    }
    expect(lock?.isValid).toBe(true);
    expect(await lock?.release()).toBe('released');
  }, 30_000);
});

describe('a frozen instance (SIGSTOP)', () => {
  it('does not hang calls: the other two decide; its queued commands leave nothing behind when it wakes', async () => {
    const m = redlock('paused');
    const other = redlock('paused');
    await (servers[2] as StandaloneRedis).node.pause();
    // Each call is decided by the two live instances, without waiting for the frozen one's timeout.
    const acquired = await timed(() => m.acquire('job'));
    expect(acquired.error).toBeUndefined();
    const lock = acquired.value as Lock;
    expect(acquired.ms).toBeLessThan(timeout);
    const busy = await timed(() => other.tryAcquire('job'));
    expect(busy.value).toBeNull();
    expect(busy.ms).toBeLessThan(timeout);
    expect((await timed(() => lock.extend())).ms).toBeLessThan(timeout);
    const released = await timed(() => lock.release());
    expect(released.value).toBe('released');
    expect(released.ms).toBeLessThan(timeout);

    // Two frozen: no quorum, and the answer comes after one timeout, not never.
    await (servers[1] as StandaloneRedis).node.pause();
    const stuck = await timed(() => m.tryAcquire('job'));
    expect(stuck.error).toBeInstanceOf(QuorumUnavailableError);
    expect(stuck.ms).toBeGreaterThanOrEqual(timeout - 20);
    expect(stuck.ms).toBeLessThan(timeout * 4);

    await Promise.all([servers[1]?.node.resume(), servers[2]?.node.resume()]);
    // Each frozen instance ran its queued acquires, then the releases sent behind them.
    for (let i = 0; i < 100 && (await countLocks('paused')) > 0; i++) await sleep(20);
    expect(await countLocks('paused')).toBe(0);
  });

  it('withLock: when two of three freeze, the signal fires before the lease could have expired on them', async () => {
    const ttl = 1_500;
    const m = redlock('frozen-quorum', ttl);
    const confirmedSentAt: number[] = [];
    m.events.on('extended', ({ durationMs }) => confirmedSentAt.push(performance.now() - durationMs));
    let pausedAt = 0;
    let abortedAt = 0;
    const result = m.withLock('job', async (signal) => {
      while (confirmedSentAt.length < 2) await sleep(20);
      await Promise.all([servers[1]?.node.pause(), servers[2]?.node.pause()]);
      pausedAt = performance.now();
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      abortedAt = performance.now();
      return 'finished';
    });
    const error = await result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockLostError);
    expect((error as LockLostError).reason).toBe('validity');
    expect(abortedAt).toBeGreaterThan(pausedAt);
    // Before the last lease a quorum granted could have run out.
    expect(abortedAt).toBeLessThan(Math.max(...confirmedSentAt) + ttl);
  }, 30_000);
});

/** Lock keys of a namespace left on the three servers. */
async function countLocks(namespace: string): Promise<number> {
  const counts = await Promise.all(admins.map((admin) => admin.keys(`${namespace}:*`)));
  return counts.reduce((sum, keys) => sum + keys.length, 0);
}
