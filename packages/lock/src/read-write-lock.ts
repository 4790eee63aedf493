import { defineScript, parseOptions, type TelemetryEmitter } from '@redkit/core';
import type { LockEvents } from './events.js';
import type { FencedLock } from './lock.js';
import { type AcquireSpec, LockEngine } from './machinery/engine.js';
import type { LeaseOps } from './machinery/held-lock.js';
import { extendLock, releaseLock } from './machinery/lock-scripts.js';
import { type ResourceKeys, resourceKeys } from './machinery/resources.js';
import {
  type AcquireOptions,
  acquireOptionsSchema,
  type ReadWriteLockOptions,
  readWriteLockOptionsSchema,
  type TryAcquireOptions,
  tryAcquireOptionsSchema,
  type WithLockOptions,
  withLockOptionsSchema,
} from './options.js';
import acquireReadLockSource from './scripts/acquire-read-lock.lua';
import acquireWriteLockSource from './scripts/acquire-write-lock.lua';
import extendPermitSource from './scripts/extend-permit.lua';
import releasePermitSource from './scripts/release-permit.lua';

const acquireReadLock = defineScript<number>('acquire-read-lock', acquireReadLockSource);
const acquireWriteLock = defineScript<number>('acquire-write-lock', acquireWriteLockSource);
const releasePermit = defineScript<number>('release-permit', releasePermitSource);
const extendPermit = defineScript<number>('extend-permit', extendPermitSource);

const id = (keys: ResourceKeys) => keys.ids[0] as string;
const writerKey = (keys: ResourceKeys) => `${id(keys)}:writer`;
const intentKey = (keys: ResourceKeys) => `${id(keys)}:writer-intent`;
const readersKey = (keys: ResourceKeys) => `${id(keys)}:readers`;
/** Wake every waiter of the resource: when a writer leaves, all readers may enter. */
const wakeAll = (keys: ResourceKeys) => `*${id(keys)}`;

/**
 * Many readers or one writer per resource. Readers hold leases in a sorted
 * set scored by expiry on the Redis clock (like semaphore permits); the
 * writer holds a lock like a mutex's. A writer that waits for readers to
 * leave announces itself, and new readers wait behind it, so a steady stream
 * of readers cannot starve writers. Read and write locks carry fencing
 * tokens from one counter per resource.
 *
 * @example
 * ```ts
 * const rw = new ReadWriteLock({ redis, namespace: 'catalog' })
 * const price = await rw.withReadLock('sku:42', () => prices.get('sku:42'))
 * await rw.withWriteLock('sku:42', (signal, lock) => prices.set('sku:42', 10, lock.fencingToken))
 * ```
 */
export class ReadWriteLock {
  /** Typed telemetry events: `acquired`, `busy`, `extended`, `released`, `lost`, `redis-failure`. */
  readonly events: TelemetryEmitter<LockEvents>;
  private readonly engine: LockEngine;
  private readonly readOps: LeaseOps;
  private readonly writeOps: LeaseOps;

  constructor(options: ReadWriteLockOptions) {
    this.engine = new LockEngine(
      parseOptions(readWriteLockOptionsSchema, options, 'ReadWriteLock'),
      'rwlock',
      'ReadWriteLock',
    );
    this.events = this.engine.events;
    const { driver, channel } = this.engine;
    this.readOps = {
      extend: (keys, token, ttlMs, timeoutMs) =>
        driver.script(extendPermit, [readersKey(keys)], [token, ttlMs], this.engine.call(timeoutMs)),
      release: (keys, token, timeoutMs) =>
        driver.script(
          releasePermit,
          [keys.waiters, readersKey(keys)],
          [token, channel, wakeAll(keys)],
          this.engine.call(timeoutMs),
        ),
    };
    this.writeOps = {
      extend: (keys, token, ttlMs, timeoutMs) =>
        driver.script(extendLock, [writerKey(keys)], [token, ttlMs], this.engine.call(timeoutMs)),
      release: (keys, token, timeoutMs) =>
        driver.script(
          releaseLock,
          [keys.waiters, writerKey(keys)],
          [token, channel, wakeAll(keys)],
          this.engine.call(timeoutMs),
        ),
    };
  }

  /**
   * Takes a read lock, shared with other readers, waiting while a writer
   * holds the lock or waits for it.
   *
   * @throws LockBusyError when a writer kept it for the whole `wait`.
   */
  async acquireRead(resource: string, options?: AcquireOptions): Promise<FencedLock> {
    const spec = this.readSpec(resource, 'acquireRead()');
    return this.engine.acquire(spec, this.engine.settings(options, acquireOptionsSchema, 'acquireRead()', true));
  }

  /**
   * Takes the write lock, waiting for the current writer or readers to leave.
   *
   * @throws LockBusyError when it stayed taken for the whole `wait`.
   */
  async acquireWrite(resource: string, options?: AcquireOptions): Promise<FencedLock> {
    const spec = this.writeSpec(resource, 'acquireWrite()');
    return this.engine.acquire(spec, this.engine.settings(options, acquireOptionsSchema, 'acquireWrite()', true));
  }

  /** One attempt at a read lock: the lock, or `null` when a writer holds or waits. */
  async tryAcquireRead(resource: string, options?: TryAcquireOptions): Promise<FencedLock | null> {
    const spec = this.readSpec(resource, 'tryAcquireRead()');
    return this.engine.tryAcquire(
      spec,
      this.engine.settings(options, tryAcquireOptionsSchema, 'tryAcquireRead()', false),
    );
  }

  /** One attempt at the write lock: the lock, or `null` when a writer or readers hold it. */
  async tryAcquireWrite(resource: string, options?: TryAcquireOptions): Promise<FencedLock | null> {
    const spec = this.writeSpec(resource, 'tryAcquireWrite()');
    return this.engine.tryAcquire(
      spec,
      this.engine.settings(options, tryAcquireOptionsSchema, 'tryAcquireWrite()', false),
    );
  }

  /** Runs `fn` under a read lock, like `Mutex.withLock`. */
  async withReadLock<T>(
    resource: string,
    fn: (signal: AbortSignal, lock: FencedLock) => T | Promise<T>,
    options?: WithLockOptions,
  ): Promise<T> {
    const spec = this.readSpec(resource, 'withReadLock()');
    return this.engine.withLock(spec, this.engine.settings(options, withLockOptionsSchema, 'withReadLock()', true), fn);
  }

  /** Runs `fn` under the write lock, like `Mutex.withLock`. */
  async withWriteLock<T>(
    resource: string,
    fn: (signal: AbortSignal, lock: FencedLock) => T | Promise<T>,
    options?: WithLockOptions,
  ): Promise<T> {
    const spec = this.writeSpec(resource, 'withWriteLock()');
    return this.engine.withLock(
      spec,
      this.engine.settings(options, withLockOptionsSchema, 'withWriteLock()', true),
      fn,
    );
  }

  /** Closes the wake-up subscription; see `Mutex.close`. */
  close(): Promise<void> {
    return this.engine.close();
  }

  private scriptKeys(keys: ResourceKeys): string[] {
    return [keys.fence, keys.waiters, writerKey(keys), intentKey(keys), readersKey(keys)];
  }

  private readSpec(resource: string, context: string): AcquireSpec {
    const keys = resourceKeys(this.engine.keyspace, resource, context, false);
    const scriptKeys = this.scriptKeys(keys);
    const { driver } = this.engine;
    return {
      keys,
      routeKey: readersKey(keys),
      ops: this.readOps,
      attempt: (token, ttlMs, waitFlagMs, timeoutMs) =>
        driver.script(acquireReadLock, scriptKeys, [token, ttlMs, waitFlagMs], this.engine.call(timeoutMs)),
      cleanup: (token, timeoutMs) => this.readOps.release(keys, token, timeoutMs),
    };
  }

  private writeSpec(resource: string, context: string): AcquireSpec {
    const keys = resourceKeys(this.engine.keyspace, resource, context, false);
    const scriptKeys = this.scriptKeys(keys);
    const { driver, channel } = this.engine;
    return {
      keys,
      routeKey: writerKey(keys),
      ops: this.writeOps,
      attempt: (token, ttlMs, waitFlagMs, timeoutMs) =>
        driver.script(acquireWriteLock, scriptKeys, [token, ttlMs, waitFlagMs], this.engine.call(timeoutMs)),
      // A writer that gives up withdraws its intent (so readers may enter) and
      // any lock an attempt whose reply was lost may have taken.
      cleanup: (token, timeoutMs) =>
        driver.script(
          releaseLock,
          [keys.waiters, writerKey(keys), intentKey(keys)],
          [token, channel, wakeAll(keys)],
          this.engine.call(timeoutMs),
        ),
      cleanupWhenBusy: true,
    };
  }
}
