import type { LockLostReason, ReleaseStatus } from './lock.js';

/**
 * Telemetry events of a `Mutex`, `Semaphore` or `ReadWriteLock`.
 * `resource` lists the locked resources, comma-separated.
 */
export type LockEvents = {
  /** A lock (permit, read or write lock) was acquired. `durationMs` includes the time spent waiting. */
  acquired: { resource: string; fencingToken: string; attempts: number; durationMs: number };
  /** An acquire gave up: `tryAcquire` found the lock taken, or `acquire` waited out its `wait`. */
  busy: { resource: string; attempts: number; durationMs: number };
  /** An extension was confirmed by Redis. `durationMs` is its round trip. */
  extended: { resource: string; ttlMs: number; durationMs: number };
  /** A release was answered by Redis (`status` says whether the lock was still held). */
  released: { resource: string; status: ReleaseStatus; durationMs: number };
  /** A held lock was found lost (its `signal` was aborted). */
  lost: { resource: string; reason: LockLostReason };
  /** A call to Redis failed (unreachable or timed out). */
  'redis-failure': { resource: string; operation: 'acquire' | 'extend' | 'release' | 'replicate'; error: string };
};
