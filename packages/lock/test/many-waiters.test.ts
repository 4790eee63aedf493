import { getEventListeners } from 'node:events';
import { LockClosedError, Mutex, Semaphore } from '@redkit/lock';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closing } from './helpers.js';

/** More than Node's default of 10 listeners per event target, where it warns of a leak. */
const waiters = 50;

describeTopologies('many waiters on one instance', (t) => {
  const track = closing();
  let counter = 0;
  const resource = () => `crowd-${++counter}`;

  // Node reports a listener leak once per event target, through process 'warning'.
  let warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  /** Warnings are emitted on a later tick than the listener that caused them: let them arrive. */
  const leakWarnings = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map(String);
  };

  /**
   * Runs `waiters` calls at once on one resource; each holds briefly (one
   * Redis round trip). Returns the fencing tokens in the order the holders
   * entered, and the most holders seen at once.
   */
  async function crowd(
    hold: (run: (token: bigint) => Promise<void>) => Promise<unknown>,
  ): Promise<{ entered: bigint[]; mostAtOnce: number }> {
    let inside = 0;
    let mostAtOnce = 0;
    const entered: bigint[] = [];
    const run = async (token: bigint) => {
      entered.push(token);
      inside++;
      mostAtOnce = Math.max(mostAtOnce, inside);
      await t.redis.incr(`${t.namespace}:{crowd}:held`);
      inside--;
    };
    await Promise.all(Array.from({ length: waiters }, () => hold(run)));
    return { entered, mostAtOnce };
  }

  describe.each([
    ['Mutex', 1],
    ['Semaphore', 2],
  ] as const)('%s', (kind, limit) => {
    const make = () =>
      track(
        kind === 'Mutex'
          ? new Mutex({ redis: t.redis, namespace: t.namespace, ttl: '10s', wait: '60s' })
          : new Semaphore({ redis: t.redis, namespace: t.namespace, limit, ttl: '10s', wait: '60s' }),
      );
    const withLock = (
      instance: Mutex | Semaphore,
      r: string,
      run: (token: bigint) => Promise<void>,
      signal?: AbortSignal,
    ): Promise<void> => {
      const fn = (_: AbortSignal, lock: { fencingToken: bigint }) => run(lock.fencingToken);
      const options = signal ? { signal } : undefined;
      return instance instanceof Mutex ? instance.withLock(r, fn, options) : instance.withPermit(r, fn, options);
    };

    it(`${waiters} waiters all acquire in turn, and no listener-leak warning is emitted`, async () => {
      const instance = make();
      const r = resource();
      const { entered, mostAtOnce } = await crowd((run) => withLock(instance, r, run));
      expect(new Set(entered).size).toBe(waiters);
      expect(mostAtOnce).toBe(limit);
      // One at a time, in fencing order: each holder's token is above every earlier one's.
      if (limit === 1) expect(entered).toEqual([...entered].sort((a, b) => (a < b ? -1 : 1)));
      expect(await leakWarnings()).toEqual([]);
    }, 60_000);

    it(`${waiters} waiters sharing one caller signal: no warning, and no listener left on it`, async () => {
      const instance = make();
      const r = resource();
      const controller = new AbortController();
      const { entered, mostAtOnce } = await crowd((run) => withLock(instance, r, run, controller.signal));
      expect(new Set(entered).size).toBe(waiters);
      expect(mostAtOnce).toBeLessThanOrEqual(limit);
      expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
      expect(await leakWarnings()).toEqual([]);
    }, 60_000);

    it(`close() ends all ${waiters} paused calls with LockClosedError`, async () => {
      // Long pauses: once a call has made its first attempt it waits for close() alone.
      const instance = track(
        kind === 'Mutex'
          ? new Mutex({ redis: t.redis, namespace: t.namespace, ttl: '30s', wait: '60s', retry: slow })
          : new Semaphore({ redis: t.redis, namespace: t.namespace, limit, ttl: '30s', wait: '60s', retry: slow }),
      );
      const r = resource();
      const holders = await Promise.all(Array.from({ length: limit }, () => instance.acquire(r)));
      const paused = pausesOf(waiters);
      const outcomes = Promise.all(
        Array.from({ length: waiters }, () =>
          instance.acquire(r).then(
            () => 'acquired',
            (error: unknown) => error,
          ),
        ),
      );
      await paused.all;
      await instance.close();
      for (const outcome of await outcomes) expect(outcome).toBeInstanceOf(LockClosedError);
      for (const holder of holders) expect(await holder.release()).toBe('released');
      expect(await leakWarnings()).toEqual([]);
    }, 60_000);
  });
});

const slow = { minDelay: '20s', maxDelay: '40s' } as const;

/**
 * Resolves `all` once `count` pauses between attempts have begun: each pause
 * of @redkit/lock's acquire loop is one timer, set from machinery/acquire-loop.ts.
 */
function pausesOf(count: number): { all: Promise<void> } {
  const original = globalThis.setTimeout;
  let seen = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const timer = original(callback, ms, ...args);
    // The frame that called setTimeout (ioredis sets timers too, from calls the loop makes).
    const frames = new Error().stack?.split('\n') ?? [];
    const caller = frames[frames.findLastIndex((frame) => frame.includes('@vitest/spy')) + 1];
    if (caller?.includes('/packages/lock/src/machinery/acquire-loop.ts') && ++seen === count) {
      spy.mockRestore();
      done();
    }
    return timer;
  }) as typeof setTimeout);
  return { all };
}
