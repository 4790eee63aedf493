import { defineScript, parseOptions, type TelemetryEmitter } from '@redkit/core';
import type { LockEvents } from './events.js';
import type { FencedLock } from './lock.js';
import { type AcquireSpec, LockEngine } from './machinery/engine.js';
import type { LeaseOps } from './machinery/held-lock.js';
import { extendLock, lockKeys, releaseLock } from './machinery/lock-scripts.js';
import { resourceKeys } from './machinery/resources.js';
import {
  type AcquireOptions,
  acquireOptionsSchema,
  type MutexOptions,
  mutexOptionsSchema,
  type TryAcquireOptions,
  tryAcquireOptionsSchema,
  type WithLockOptions,
  withLockOptionsSchema,
} from './options.js';
import acquireLockSource from './scripts/acquire-lock.lua';

const acquireLock = defineScript<number>('acquire-lock', acquireLockSource);

/**
 * A distributed mutual-exclusion lock on one Redis server or one Redis
 * Cluster. Every acquire issues a fencing token; each operation is one Lua
 * script (one round trip).
 *
 * Several resources can be locked at once, all or none, when they share a
 * hash tag: `mutex.acquire(['{acct}:1', '{acct}:2'])`.
 *
 * Waiting callers are woken by a pub/sub message when the holder releases
 * (one subscriber connection per instance, opened on the first wait; see
 * the `wakeUp` option) and poll with backoff as a fallback. Call
 * {@link Mutex.close} when done to close that connection.
 *
 * @example
 * ```ts
 * const mutex = new Mutex({ redis, namespace: 'billing', ttl: '10s' })
 * await mutex.withLock(`invoice:${id}`, async (signal, lock) => {
 *   await invoices.finalize(id, { fencingToken: lock.fencingToken, signal })
 * })
 * ```
 */
export class Mutex {
  /** Typed telemetry events: `acquired`, `busy`, `extended`, `released`, `lost`, `redis-failure`. */
  readonly events: TelemetryEmitter<LockEvents>;
  private readonly engine: LockEngine;
  private readonly ops: LeaseOps;

  constructor(options: MutexOptions) {
    this.engine = new LockEngine(parseOptions(mutexOptionsSchema, options, 'Mutex'), 'lock', 'Mutex');
    this.events = this.engine.events;
    const { driver, channel } = this.engine;
    this.ops = {
      extend: (keys, token, ttlMs, timeoutMs) =>
        driver.script(extendLock, lockKeys(keys), [token, ttlMs], this.engine.call(timeoutMs)),
      release: (keys, token, timeoutMs) =>
        driver.script(
          releaseLock,
          [keys.waiters, ...lockKeys(keys)],
          [token, channel, keys.ids.join('\n')],
          this.engine.call(timeoutMs),
        ),
    };
  }

  /**
   * Acquires the lock of `resource` (or of every resource in a list, all or
   * none), waiting up to `wait` while another holder has it.
   *
   * @throws LockBusyError when the lock stayed taken for the whole `wait`.
   * @throws RedisUnavailableError when Redis did not answer (the last attempt's error).
   * @throws the `signal`'s reason when it aborts the wait.
   * @example
   * ```ts
   * await using lock = await mutex.acquire('report:daily', { ttl: '30s', wait: '5s' })
   * ```
   */
  async acquire(resource: string | readonly string[], options?: AcquireOptions): Promise<FencedLock> {
    const spec = this.spec(resource, 'acquire()');
    return this.engine.acquire(spec, this.engine.settings(options, acquireOptionsSchema, 'acquire()', true));
  }

  /**
   * One attempt: the lock, or `null` when another holder has it.
   *
   * @example
   * ```ts
   * const lock = await mutex.tryAcquire('cron:cleanup')
   * if (!lock) return // another worker runs it
   * ```
   */
  async tryAcquire(resource: string | readonly string[], options?: TryAcquireOptions): Promise<FencedLock | null> {
    const spec = this.spec(resource, 'tryAcquire()');
    return this.engine.tryAcquire(spec, this.engine.settings(options, tryAcquireOptionsSchema, 'tryAcquire()', false));
  }

  /**
   * Runs `fn` while holding the lock: acquires (waiting like {@link acquire}),
   * extends the lease every third of its ttl while `fn` runs, and releases.
   *
   * `fn` gets an `AbortSignal` that aborts with {@link LockLostError} as soon
   * as the lock is lost or its validity runs out before an extension was
   * confirmed (it also follows `options.signal`). If `fn` throws, that error
   * is what `withLock` rejects with; a failed release is attached to it as
   * `releaseError`. If `fn` returns but the lock was lost meanwhile,
   * `withLock` rejects with `LockLostError`.
   *
   * @example
   * ```ts
   * const total = await mutex.withLock('account:7', async (signal, lock) => {
   *   return ledger.settle('account:7', { fencingToken: lock.fencingToken, signal })
   * })
   * ```
   */
  async withLock<T>(
    resource: string | readonly string[],
    fn: (signal: AbortSignal, lock: FencedLock) => T | Promise<T>,
    options?: WithLockOptions,
  ): Promise<T> {
    const spec = this.spec(resource, 'withLock()');
    return this.engine.withLock(spec, this.engine.settings(options, withLockOptionsSchema, 'withLock()', true), fn);
  }

  /**
   * Closes the wake-up subscription and rejects calls still waiting with
   * `LockClosedError`. Held locks stay valid and can still be extended and
   * released; the `redis` client is not closed.
   */
  close(): Promise<void> {
    return this.engine.close();
  }

  private spec(resource: string | readonly string[], context: string): AcquireSpec {
    const keys = resourceKeys(this.engine.keyspace, resource, context, true);
    const locks = lockKeys(keys);
    const { driver } = this.engine;
    const scriptKeys = [keys.fence, keys.waiters, ...locks];
    return {
      keys,
      routeKey: locks[0] as string,
      ops: this.ops,
      attempt: (token, ttlMs, waitFlagMs, timeoutMs) =>
        driver.script(acquireLock, scriptKeys, [token, ttlMs, waitFlagMs], this.engine.call(timeoutMs)),
      cleanup: (token, timeoutMs) => this.ops.release(keys, token, timeoutMs),
    };
  }
}
