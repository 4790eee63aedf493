import { InvalidOptionsError, onScriptCall } from '@redkit/core';
import {
  type FencedLock,
  LockBusyError,
  LockClosedError,
  type LockEvents,
  LockLostError,
  LockReplicationError,
  Mutex,
  type MutexOptions,
  runWithLock,
} from '@redkit/lock';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it, vi } from 'vitest';
import { blockEventLoop, closing, keysOf, sleep, timersLeftBy, waitFor } from './helpers.js';

describeTopologies('mutex', (t) => {
  const track = closing();
  const mutex = (options: Partial<MutexOptions> = {}) =>
    track(new Mutex({ redis: t.redis, namespace: t.namespace, ttl: '5s', wait: '5s', ...options }));
  let counter = 0;
  const resource = () => `res-${++counter}`;
  /**
   * Counts the acquire attempts sent for resource `r`, so a test can wait until a
   * waiter is waiting: its first attempt found the lock held (with wake-ups, its
   * second follows its subscription).
   */
  const attemptsOn = (r: string) => {
    const lockKey = `${t.namespace}:{${r}}:lock`;
    let count = 0;
    const stop = onScriptCall(({ script, keys }) => {
      if (script.name === 'acquire-lock' && keys.at(-1) === lockKey) count++;
    });
    return {
      get count() {
        return count;
      },
      stop,
    };
  };

  describe('acquire and release', () => {
    it('holds the lock until released; a second caller gets null, then the lock', async () => {
      const m = mutex();
      const r = resource();
      const lock = await m.acquire(r);
      expect(lock.resources).toEqual([r]);
      expect(lock.isValid).toBe(true);
      expect(lock.remainingMs).toBeGreaterThan(0);
      expect(lock.remainingMs).toBeLessThanOrEqual(5_000);
      expect(typeof lock.fencingToken).toBe('bigint');
      expect(await m.tryAcquire(r)).toBeNull();
      expect(await lock.release()).toBe('released');
      expect(lock.isValid).toBe(false);
      const next = await m.tryAcquire(r);
      expect(next).not.toBeNull();
      expect(next?.fencingToken).toBeGreaterThan(lock.fencingToken);
      expect(await next?.release()).toBe('released');
      // Only the fencing counter stays behind.
      expect(await keysOf(t.redis, t.namespace)).toEqual(expect.arrayContaining([`${t.namespace}:{${r}}:fence`]));
      expect((await keysOf(t.redis, t.namespace)).some((key) => key.endsWith(`{${r}}:lock`))).toBe(false);
    });

    it('release is idempotent and reports expired after the lease ran out', async () => {
      const m = mutex({ ttl: 50 });
      const lock = await m.acquire(resource());
      await sleep(120);
      expect(lock.isValid).toBe(false);
      expect(await lock.release()).toBe('expired');
      expect(await lock.release()).toBe('expired');
    });

    it('a late release never deletes the next holder’s lock and says it was taken', async () => {
      const m = mutex({ ttl: 60 });
      const r = resource();
      const first = await m.acquire(r);
      await sleep(150);
      const second = await m.acquire(r, { ttl: '5s' });
      expect(await first.release()).toBe('taken');
      expect(second.isValid).toBe(true);
      expect(await m.tryAcquire(r)).toBeNull();
      await expect(first.extend()).rejects.toBeInstanceOf(LockLostError);
      expect(await second.release()).toBe('released');
    });

    it('fencing tokens increase across holders', async () => {
      const m = mutex();
      const r = resource();
      const tokens: bigint[] = [];
      for (let i = 0; i < 20; i++) {
        const lock = await m.acquire(r);
        tokens.push(lock.fencingToken);
        await lock.release();
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as bigint);
    });

    it('await using releases at the end of the block', async () => {
      const m = mutex();
      const r = resource();
      {
        await using lock = await m.acquire(r);
        expect(lock.isValid).toBe(true);
        expect(await m.tryAcquire(r)).toBeNull();
      }
      const again = await m.tryAcquire(r);
      expect(again).not.toBeNull();
      await again?.release();
    });
  });

  describe('extend', () => {
    it('moves the validity forward and resets the ttl in Redis', async () => {
      const m = mutex({ ttl: 300 });
      const r = resource();
      const lock = await m.acquire(r);
      const before = lock.validUntil;
      await lock.extend('10s');
      expect(lock.validUntil).toBeGreaterThan(before);
      expect(lock.remainingMs).toBeGreaterThan(5_000);
      const pttl = Number(await t.redis.pttl(`${t.namespace}:{${r}}:lock`));
      expect(pttl).toBeGreaterThan(5_000);
      await sleep(400);
      expect(lock.isValid).toBe(true);
      expect(await lock.release()).toBe('released');
    });

    it('throws LockLostError and aborts the signal when the lock expired', async () => {
      const m = mutex({ ttl: 50 });
      const lock = await m.acquire(resource());
      const signal = lock.signal;
      await sleep(120);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(LockLostError);
      expect((signal.reason as LockLostError).reason).toBe('validity');
      await expect(lock.extend()).rejects.toThrow(LockLostError);
    });

    it('after release, extend says so', async () => {
      const m = mutex();
      const lock = await m.acquire(resource());
      await lock.release();
      await expect(lock.extend()).rejects.toMatchObject({ code: 'E_LOCK_LOST', reason: 'released' });
    });
  });

  describe('waiting', () => {
    it('a waiter is woken by the release instead of sleeping out its backoff', async () => {
      // Backoff of 20–40 s: only a wake-up can hand the lock over within the test.
      const m = mutex({ retry: { minDelay: '20s', maxDelay: '40s' }, wait: '60s', ttl: '60s' });
      const r = resource();
      const holder = await m.acquire(r);
      const attempts = attemptsOn(r);
      try {
        const waiting = m.acquire(r);
        // Subscribed: its second attempt is sent once it listens for the release.
        await waitFor(() => attempts.count === 2, { what: 'the waiter to subscribe' });
        await holder.release();
        const lock = await waiting;
        expect(lock.isValid).toBe(true);
        await lock.release();
      } finally {
        attempts.stop();
      }
    }, 15_000);

    it('gives up after wait with LockBusyError', async () => {
      const m = mutex();
      const r = resource();
      const holder = await m.acquire(r);
      const error = await m.acquire(r, { wait: 100 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LockBusyError);
      expect((error as LockBusyError).attempts).toBeGreaterThan(1);
      expect((error as LockBusyError).resources).toEqual([r]);
      await holder.release();
    });

    it('rejects with the signal’s reason when aborted while waiting', async () => {
      const m = mutex();
      const r = resource();
      const holder = await m.acquire(r);
      const controller = new AbortController();
      const waiting = m.acquire(r, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error('user gave up')), 50);
      await expect(waiting).rejects.toThrow('user gave up');
      await holder.release();
    });

    it('the waiter gets the lock when the holder’s lease expires without a release', async () => {
      const m = mutex({ retry: { minDelay: '10s', maxDelay: '20s' } });
      const r = resource();
      await m.acquire(r, { ttl: 150 }); // never released: its holder "crashed"
      const lock = await m.acquire(r, { wait: '10s' });
      expect(lock.isValid).toBe(true);
      await lock.release();
    }, 15_000);
  });

  describe('wake-ups, polling and close', () => {
    it('with wakeUp "poll", waiters get the lock by polling', async () => {
      const m = mutex({ wakeUp: 'poll', retry: { minDelay: 5, maxDelay: 20 } });
      const r = resource();
      const holder = await m.acquire(r);
      const attempts = attemptsOn(r);
      const waiting = m.acquire(r);
      await waitFor(() => attempts.count >= 1, { what: 'the waiter’s first attempt' }).finally(attempts.stop);
      await holder.release();
      const lock = await waiting;
      expect(lock.isValid).toBe(true);
      await lock.release();
    });

    it('close() ends waiting calls with LockClosedError; held locks still release', async () => {
      const m = new Mutex({ redis: t.redis, namespace: t.namespace, ttl: '5s', wait: '30s' });
      const r = resource();
      const holder = await m.acquire(r);
      const attempts = attemptsOn(r);
      const waiting = m.acquire(r).catch((e: unknown) => e);
      await waitFor(() => attempts.count >= 1, { what: 'the waiter’s first attempt' }).finally(attempts.stop);
      await m.close();
      expect(await waiting).toBeInstanceOf(LockClosedError);
      await expect(m.acquire(resource())).rejects.toBeInstanceOf(LockClosedError);
      expect(await holder.release()).toBe('released');
    });

    it('emits typed events', async () => {
      const m = mutex();
      const r = resource();
      const seen: (keyof LockEvents)[] = [];
      m.events.onAny((_pattern, type) => seen.push(type as keyof LockEvents));
      const lock = await m.acquire(r);
      expect(await m.tryAcquire(r)).toBeNull();
      await lock.extend();
      await lock.release();
      expect(seen).toEqual(['acquired', 'busy', 'extended', 'released']);
    });
  });

  describe('WAIT for replicas', () => {
    it('reports the replicas that acknowledged the lock, and gives it back when too few did', async () => {
      const m = mutex({ replicas: { count: 1, timeout: 200 } });
      const r = resource();
      if (t.replicas === 1) {
        // Every master of the test cluster, and the Sentinel primary, has one replica.
        const lock = await m.acquire(r);
        expect(lock.replicas).toBe(1);
        await lock.release();
        const two = await m.acquire(r, { replicas: { count: 2, timeout: 50, onShortfall: 'keep' } });
        expect(two.replicas).toBe(1);
        await two.release();
      } else {
        // A standalone server has no replica to acknowledge anything.
        const error = await m.acquire(r).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LockReplicationError);
        expect(error).toMatchObject({ acknowledged: 0, required: 1, resources: [r] });
        const lock = await m.tryAcquire(r, { replicas: false });
        expect(lock?.replicas).toBeUndefined();
        await lock?.release();
      }
    });
  });

  describe('multi-resource locks', () => {
    it('takes every resource or none', async () => {
      const m = mutex();
      const [a, b, c] = ['{acct}:1', '{acct}:2', '{acct}:3'];
      const single = await m.acquire(b);
      expect(await m.tryAcquire([a, b, c])).toBeNull();
      // Nothing was taken by the failed attempt.
      const onlyA = await m.tryAcquire(a);
      expect(onlyA).not.toBeNull();
      await onlyA?.release();
      await single.release();
      const all = await m.acquire([a, b, c]);
      expect(all.resources).toEqual([a, b, c]);
      for (const one of [a, b, c]) expect(await m.tryAcquire(one)).toBeNull();
      await all.extend();
      expect(await all.release()).toBe('released');
      const again = await m.tryAcquire([c, a]);
      expect(again?.fencingToken).toBeGreaterThan(all.fencingToken);
      await again?.release();
    });

    it('a late release deletes only the locks it still holds, says one was taken, and wakes waiters', async () => {
      const m = mutex({ retry: { minDelay: '60s', maxDelay: '60s' } });
      const [a, b] = ['{late}:1', '{late}:2'];
      const both = await m.acquire([a, b], { ttl: 100 });
      const held = (await keysOf(t.redis, t.namespace)).filter(
        (key) => key.startsWith(`${t.namespace}:{late}:`) && key.endsWith(':lock'),
      );
      expect(held).toHaveLength(2);
      // Another holder takes `a` once the lease ran out (its busy attempt learns when).
      const other = await m.acquire(a, { wait: '5s' });
      // `b` is still held under the first token (as if its lease had not run out yet), for 30 s.
      const [bKey] = (await Promise.all(held.map(async (key) => ((await t.redis.exists(key)) ? [] : [key])))).flat();
      expect(bKey).toBeDefined();
      await t.redis.set(bKey as string, both.token, 'PX', 30_000);
      // A waiter for `b`, which would poll again only after 30-60 s: only a wake-up gets it in. Its second
      // attempt (made once it is subscribed) is sent before the release on the same connection, so
      // the release finds it waiting.
      let attempts = 0;
      const stop = onScriptCall(({ script, keys }) => {
        if (script.name === 'acquire-lock' && keys.at(-1) === bKey) attempts++;
      });
      let woken: FencedLock;
      try {
        const waiting = m.acquire(b, { wait: '60s' });
        await vi.waitFor(() => expect(attempts).toBe(2));
        expect(await both.release()).toBe('taken');
        woken = await waiting;
        // Woken: one attempt after the release, not a poll (the next one would come 30-60 s later).
        expect(attempts).toBe(3);
      } finally {
        stop();
      }
      expect(woken.resources).toEqual([b]);
      // `a` is still the other holder's.
      expect(await m.tryAcquire(a)).toBeNull();
      expect(await other.release()).toBe('released');
      expect(await woken.release()).toBe('released');
    }, 15_000);

    it('needs resources that share a hash tag', async () => {
      const m = mutex();
      await expect(m.acquire(['{a}:1', '{b}:1'])).rejects.toThrow('resources.1: must share the hash tag {a}');
      await expect(m.acquire(['x', 'y'])).rejects.toThrow(InvalidOptionsError);
      await expect(m.acquire(['{a}:1', '{a}:1'])).rejects.toThrow('resources.1: is listed twice');
    });
  });

  describe('withLock', () => {
    it('returns fn’s value and releases', async () => {
      const m = mutex();
      const r = resource();
      const value = await m.withLock(r, async (signal, lock) => {
        expect(signal.aborted).toBe(false);
        expect(lock.resources).toEqual([r]);
        expect(await m.tryAcquire(r)).toBeNull();
        return 42;
      });
      expect(value).toBe(42);
      const after = await m.tryAcquire(r);
      expect(after).not.toBeNull();
      await after?.release();
    });

    it('keeps the lock alive for 5× its ttl by extending it', async () => {
      const m = mutex({ ttl: 300 });
      const r = resource();
      let extensions = 0;
      m.events.on('extended', () => extensions++);
      await m.withLock(r, async (signal, lock) => {
        for (let i = 0; i < 15; i++) {
          await sleep(100);
          expect(signal.aborted).toBe(false);
          expect(await t.redis.get(`${t.namespace}:{${r}}:lock`)).toBe(lock.token);
        }
      });
      expect(extensions).toBeGreaterThanOrEqual(3);
      expect(await t.redis.exists(`${t.namespace}:{${r}}:lock`)).toBe(0);
    });

    it('leaves no timer running once it settled', async () => {
      const m = mutex({ ttl: 300 });
      const r = resource();
      const holder = await m.acquire(r, { ttl: 100 });
      const timers = await timersLeftBy(async () => {
        // Waits (backoff timers), then extends (extension and validity timers).
        await m.withLock(r, () => sleep(250));
        await expect(
          m.withLock(resource(), async () => {
            await sleep(150);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
      });
      expect(timers.set).toBeGreaterThan(3);
      expect(timers.pending).toBe(0);
      expect(await holder.release()).toBe('expired');
    });

    it('the caller’s signal aborts fn’s signal too', async () => {
      const m = mutex();
      const controller = new AbortController();
      const reason = await m.withLock(
        resource(),
        (signal) =>
          new Promise((resolve) => {
            signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
            controller.abort('stop');
          }),
        { signal: controller.signal },
      );
      expect(reason).toBe('stop');
    });

    it('runWithLock does the same for a lock acquired beforehand', async () => {
      const m = mutex({ ttl: 300 });
      const r = resource();
      const lock = await m.acquire(r);
      let extensions = 0;
      m.events.on('extended', () => extensions++);
      const value = await runWithLock(
        lock,
        async (signal, held) => {
          await sleep(600);
          expect(signal.aborted).toBe(false);
          return held.fencingToken;
        },
        { extendEvery: 100 },
      );
      expect(value).toBe(lock.fencingToken);
      expect(extensions).toBeGreaterThanOrEqual(3);
      expect(await lock.release()).toBe('released');
      expect(await m.tryAcquire(r)).not.toBeNull();
    });

    it('keeps fn’s error and attaches a release failure to it', async () => {
      const client = t.client();
      const m = track(new Mutex({ redis: client, namespace: t.namespace, timeout: 300 }));
      const failure = new Error('fn failed');
      const error = await m
        .withLock(resource(), async () => {
          client.disconnect();
          throw failure;
        })
        .catch((e: unknown) => e);
      expect(error).toBe(failure);
      expect((error as { releaseError?: unknown }).releaseError).toMatchObject({ code: 'E_REDIS_UNAVAILABLE' });
    });

    it('a holder that stalls past its ttl gets LockLostError and does not delete the next holder’s lock', async () => {
      const m = mutex({ ttl: 100 });
      const other = mutex();
      const r = resource();
      let fnSignal: AbortSignal | undefined;
      const result = m.withLock(r, async (signal) => {
        fnSignal = signal;
        blockEventLoop(250);
        // Another process takes the lock while this one is stalled.
        const next = await other.acquire(r, { ttl: '5s' });
        expect(next.isValid).toBe(true);
        return 'done';
      });
      await expect(result).rejects.toBeInstanceOf(LockLostError);
      expect(fnSignal?.aborted).toBe(true);
      // The new holder's lock is still there.
      expect(await other.tryAcquire(r)).toBeNull();
    });
  });
});
