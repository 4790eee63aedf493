import { InvalidOptionsError, RedisUnavailableError, RedkitError } from '@redkit/core';
import type { LockLostReason } from './lock.js';

function describe(resources: readonly string[]): string {
  return resources.map((resource) => JSON.stringify(resource)).join(', ');
}

/**
 * `acquire()` waited as long as it was allowed to (`wait`) and the lock stayed
 * taken. `tryAcquire()` returns `null` instead.
 */
export class LockBusyError extends RedkitError {
  readonly resources: readonly string[];
  /** Attempts made, the first one included. */
  readonly attempts: number;
  /** How long the call waited, in ms. */
  readonly waitedMs: number;

  constructor(resources: readonly string[], attempts: number, waitedMs: number) {
    super(
      'E_LOCK_BUSY',
      `${describe(resources)} still locked by another holder after ${attempts} attempt${attempts === 1 ? '' : 's'} over ${Math.round(waitedMs)}ms`,
    );
    this.resources = resources;
    this.attempts = attempts;
    this.waitedMs = waitedMs;
  }
}

/**
 * The lock is no longer held (or can no longer be trusted to be): its lease
 * expired, another holder took it, or its validity ran out before Redis
 * confirmed an extension. Work protected by it must stop. A lock's `signal`
 * is aborted with this error as its reason.
 */
export class LockLostError extends RedkitError {
  readonly resources: readonly string[];
  /**
   * `expired`: the lock was gone from Redis. `taken`: another holder has it.
   * `validity`: the lease may have run out on Redis before an extension was
   * confirmed (Redis slow or unreachable). `released`: this holder released it.
   */
  readonly reason: LockLostReason;

  constructor(resources: readonly string[], reason: LockLostReason, options?: { cause?: unknown }) {
    const why = {
      expired: 'its lease expired',
      taken: 'another holder took it',
      validity: 'its validity ran out before Redis confirmed an extension',
      released: 'it was released',
    }[reason];
    super('E_LOCK_LOST', `lock on ${describe(resources)} lost: ${why}`, options);
    this.resources = resources;
    this.reason = reason;
  }
}

/**
 * The lock was acquired, but fewer replicas than required acknowledged it
 * within the `replicas.timeout` (see the `replicas` option). With
 * `onShortfall: 'release'` (the default) it has been released again.
 */
export class LockReplicationError extends RedkitError {
  readonly resources: readonly string[];
  /** Replicas that acknowledged the acquire in time. */
  readonly acknowledged: number;
  /** Replicas that were required. */
  readonly required: number;

  constructor(resources: readonly string[], acknowledged: number, required: number) {
    super(
      'E_LOCK_NOT_REPLICATED',
      `lock on ${describe(resources)} reached ${acknowledged} of ${required} required replica${required === 1 ? '' : 's'}; it was released`,
    );
    this.resources = resources;
    this.acknowledged = acknowledged;
    this.required = required;
  }
}

/** The `Mutex`, `Semaphore` or `ReadWriteLock` was closed while the call waited, or before it. */
export class LockClosedError extends RedkitError {
  constructor(what: string) {
    super('E_LOCK_CLOSED', `${what} was closed`);
  }
}

/** Errors thrown by @redkit/lock, for `instanceof` checks. */
export const errors = {
  LockBusyError,
  LockLostError,
  LockReplicationError,
  LockClosedError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
