import { InvalidOptionsError, RedisUnavailableError, RedkitError } from '@redkit/core';
import type { LockLostReason } from './lock.js';

function describe(resources: readonly string[]): string {
  return resources.map((resource) => JSON.stringify(resource)).join(', ');
}

/** How the instances of a Redlock quorum answered one acquire attempt. */
export interface QuorumVotes {
  /** Instances that granted the lock (this attempt gave them back). */
  readonly granted: number;
  /** Instances where another holder had it. */
  readonly busy: number;
  /** Instances that failed or timed out. */
  readonly unreachable: number;
  /**
   * Instances that had not answered yet when the attempt was decided: a round
   * ends as soon as the votes in settle it (two busy of three, say), without
   * waiting for the slowest instance.
   */
  readonly pending: number;
}

/** What a Redlock quorum answered while `acquire` waited (see {@link LockBusyError.quorum}). */
export interface QuorumBusyDetail {
  /** Instances in the quorum (N). */
  readonly instances: number;
  /** Instances that must grant a lock: `floor(N / 2) + 1`. */
  readonly required: number;
  /** One entry per attempt, oldest first (the last 100 when there were more). */
  readonly votes: readonly QuorumVotes[];
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
  /** With the Redlock adapter: how many instances agreed at each attempt. Otherwise `undefined`. */
  readonly quorum: QuorumBusyDetail | undefined;

  constructor(resources: readonly string[], attempts: number, waitedMs: number, quorum?: QuorumBusyDetail) {
    super(
      'E_LOCK_BUSY',
      `${describe(resources)} still locked by another holder after ${attempts} attempt${attempts === 1 ? '' : 's'} over ${Math.round(waitedMs)}ms${quorum ? describeVotes(quorum) : ''}`,
    );
    this.resources = resources;
    this.attempts = attempts;
    this.waitedMs = waitedMs;
    this.quorum = quorum;
  }
}

function describeVotes({ instances, required, votes }: QuorumBusyDetail): string {
  const shown = votes.slice(-10).map((vote) => vote.granted);
  const last = votes.at(-1);
  const lastDetail = last
    ? `; last attempt: ${last.busy} busy, ${last.unreachable} unreachable, ${last.pending} not yet answered`
    : '';
  return ` (instances that agreed per attempt${votes.length > shown.length ? ', last 10' : ''}: ${shown.join(', ')}; ${required} of ${instances} needed${lastDetail})`;
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

/**
 * Too few instances of a Redlock quorum answered for the operation to reach
 * a quorum. A `RedisUnavailableError` (code `E_REDIS_UNAVAILABLE`) that
 * names the instances.
 */
export class QuorumUnavailableError extends RedisUnavailableError {
  /** The operation that failed. */
  readonly operation: 'acquire' | 'extend' | 'release';
  /** Instances (`host:port`) that failed or timed out. */
  readonly unreachable: readonly string[];
  /** Instances in the quorum (N). */
  readonly instances: number;
  /** Instances that must agree: `floor(N / 2) + 1`. */
  readonly required: number;

  constructor(
    operation: 'acquire' | 'extend' | 'release',
    failed: readonly { address: string; error: unknown }[],
    pending: readonly string[],
    instances: number,
    required: number,
    timedOut: boolean,
  ) {
    const detail = failed
      .map(({ address, error }) => `${address}: ${error instanceof Error ? error.message : String(error)}`)
      .join('; ');
    const waiting = pending.length > 0 ? ` (no answer yet from ${pending.join(', ')})` : '';
    super(
      `${operation}: ${failed.length} of ${instances} Redis instances unreachable, a quorum needs ${required}${waiting}: ${detail}`,
      { cause: failed[0]?.error, timedOut },
    );
    this.operation = operation;
    this.unreachable = failed.map(({ address }) => address);
    this.instances = instances;
    this.required = required;
  }
}

/** Errors thrown by @redkit/lock, for `instanceof` checks. */
export const errors = {
  LockBusyError,
  LockLostError,
  LockReplicationError,
  LockClosedError,
  QuorumUnavailableError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
