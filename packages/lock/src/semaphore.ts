import { defineScript, parseOptions, type TelemetryEmitter } from '@redkit/core';
import type { LockEvents } from './events.js';
import type { FencedLock } from './lock.js';
import { type AcquireSpec, LockEngine } from './machinery/engine.js';
import type { LeaseOps } from './machinery/held-lock.js';
import { type ResourceKeys, resourceKeys } from './machinery/resources.js';
import {
  type AcquireOptions,
  acquireOptionsSchema,
  type SemaphoreOptions,
  semaphoreOptionsSchema,
  type TryAcquireOptions,
  tryAcquireOptionsSchema,
  type WithLockOptions,
  withLockOptionsSchema,
} from './options.js';
import acquirePermitSource from './scripts/acquire-permit.lua';
import countPermitsSource from './scripts/count-permits.lua';
import extendPermitSource from './scripts/extend-permit.lua';
import releasePermitSource from './scripts/release-permit.lua';

const acquirePermit = defineScript<number>('acquire-permit', acquirePermitSource);
const releasePermit = defineScript<number>('release-permit', releasePermitSource);
const extendPermit = defineScript<number>('extend-permit', extendPermitSource);
const countPermits = defineScript<number>('count-permits', countPermitsSource);

/** A semaphore permit: a lease on one of `limit` slots of a resource. */
export type Permit = FencedLock;

const permitsKey = (keys: ResourceKeys) => `${keys.ids[0]}:permits`;

/**
 * At most `limit` holders of a resource at once, with leases that expire when
 * a holder dies. Permits live in a sorted set scored by their expiry on the
 * Redis clock (`TIME`), so expired leases are reclaimed by the next acquire
 * whatever the clients' clocks say. Each permit carries a fencing token.
 *
 * @example
 * ```ts
 * const exports = new Semaphore({ redis, namespace: 'exports', limit: 3, ttl: '1m' })
 * await exports.withPermit(`tenant:${tenantId}`, async (signal) => runExport(tenantId, { signal }))
 * ```
 */
export class Semaphore {
  /** Typed telemetry events: `acquired`, `busy`, `extended`, `released`, `lost`, `redis-failure`. */
  readonly events: TelemetryEmitter<LockEvents>;
  /** Most permits held at once per resource. */
  readonly limit: number;
  private readonly engine: LockEngine;
  private readonly ops: LeaseOps;

  constructor(options: SemaphoreOptions) {
    const resolved = parseOptions(semaphoreOptionsSchema, options, 'Semaphore');
    this.limit = resolved.limit;
    this.engine = new LockEngine(resolved, 'semaphore', 'Semaphore');
    this.events = this.engine.events;
    const { driver, channel } = this.engine;
    this.ops = {
      extend: (keys, token, ttlMs, timeoutMs) =>
        driver.script(extendPermit, [permitsKey(keys)], [token, ttlMs], this.engine.call(timeoutMs)),
      release: (keys, token, timeoutMs) =>
        driver.script(
          releasePermit,
          [keys.waiters, permitsKey(keys)],
          [token, channel, keys.ids[0] as string],
          this.engine.call(timeoutMs),
        ),
    };
  }

  /**
   * Takes a permit of `resource`, waiting up to `wait` while all are taken.
   *
   * @throws LockBusyError when no permit became free within `wait`.
   * @example
   * ```ts
   * await using permit = await semaphore.acquire('gpu')
   * ```
   */
  async acquire(resource: string, options?: AcquireOptions): Promise<Permit> {
    const spec = this.spec(resource, 'acquire()');
    return this.engine.acquire(spec, this.engine.settings(options, acquireOptionsSchema, 'acquire()', true));
  }

  /** One attempt: a permit, or `null` when all are taken. */
  async tryAcquire(resource: string, options?: TryAcquireOptions): Promise<Permit | null> {
    const spec = this.spec(resource, 'tryAcquire()');
    return this.engine.tryAcquire(spec, this.engine.settings(options, tryAcquireOptionsSchema, 'tryAcquire()', false));
  }

  /**
   * Runs `fn` while holding a permit, extending its lease and releasing it
   * afterwards, like `Mutex.withLock`.
   */
  async withPermit<T>(
    resource: string,
    fn: (signal: AbortSignal, permit: Permit) => T | Promise<T>,
    options?: WithLockOptions,
  ): Promise<T> {
    const spec = this.spec(resource, 'withPermit()');
    return this.engine.withLock(spec, this.engine.settings(options, withLockOptionsSchema, 'withPermit()', true), fn);
  }

  /** How many permits of `resource` are held now (leases not yet expired). */
  async holders(resource: string): Promise<number> {
    const keys = resourceKeys(this.engine.keyspace, resource, 'holders()', false);
    return this.engine.driver.script(countPermits, [permitsKey(keys)], [], this.engine.call(this.engine.timeoutMs));
  }

  /** Closes the wake-up subscription; see `Mutex.close`. */
  close(): Promise<void> {
    return this.engine.close();
  }

  private spec(resource: string, context: string): AcquireSpec {
    const keys = resourceKeys(this.engine.keyspace, resource, context, false);
    const permits = permitsKey(keys);
    const scriptKeys = [keys.fence, keys.waiters, permits];
    const { driver } = this.engine;
    return {
      keys,
      routeKey: permits,
      ops: this.ops,
      attempt: (token, ttlMs, waitFlagMs, timeoutMs) =>
        driver.script(acquirePermit, scriptKeys, [token, ttlMs, this.limit, waitFlagMs], this.engine.call(timeoutMs)),
      cleanup: (token, timeoutMs) => this.ops.release(keys, token, timeoutMs),
    };
  }
}
