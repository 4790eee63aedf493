import type { LockLostReason, ReleaseStatus } from './lock.js';

/** Payload of the `acquired` event of a lock kind with fencing tokens. */
export type FencedAcquired = {
  resource: string;
  fencingToken: string;
  attempts: number;
  /** Includes the time spent waiting. */
  durationMs: number;
};

/**
 * Telemetry events of a `Mutex`, `Semaphore` or `ReadWriteLock` (and, with
 * its own `acquired` payload, of the Redlock adapter).
 * `resource` lists the locked resources, comma-separated.
 */
export type LockEvents<Acquired extends object = FencedAcquired> = {
  /** A lock (permit, read or write lock) was acquired. `durationMs` includes the time spent waiting. */
  acquired: Acquired;
  /** An acquire gave up: `tryAcquire` found the lock taken, or `acquire` waited out its `wait`. */
  busy: { resource: string; attempts: number; durationMs: number };
  /** An extension was confirmed by Redis. `durationMs` is its round trip. */
  extended: { resource: string; ttlMs: number; durationMs: number };
  /** A release was answered by Redis (`status` says whether the lock was still held). */
  released: { resource: string; status: ReleaseStatus; durationMs: number };
  /** A held lock was found lost (its `signal` was aborted). */
  lost: { resource: string; reason: LockLostReason };
  /**
   * A call to Redis failed (unreachable or timed out). With the Redlock
   * adapter, `instance` names the server (`host:port`) when one of several
   * failed.
   */
  'redis-failure': {
    resource: string;
    operation: 'acquire' | 'extend' | 'release' | 'replicate';
    error: string;
    instance?: string;
  };
};
