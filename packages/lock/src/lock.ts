import type { Duration } from '@redkit/core';

/**
 * What `release()` found in Redis.
 * - `released`: the lock was still held by this holder and is now free.
 * - `expired`: the lock was no longer held by anybody (its lease ran out, or it had been released).
 * - `taken`: another holder has it now; it was left alone.
 */
export type ReleaseStatus = 'released' | 'expired' | 'taken';

/** Why a lock counts as lost (see {@link LockLostError}). */
export type LockLostReason = 'expired' | 'taken' | 'validity' | 'released';

/**
 * A held lock: the shape every lock of this package has (mutex locks,
 * semaphore permits, read and write locks), and the interface other
 * implementations (such as a Redlock quorum adapter) implement too.
 *
 * Validity is accounted on the monotonic clock (`performance.now()`), from
 * the moment the successful acquire (or extend) was sent, minus a drift
 * margin, so it ends no later than the lease on Redis.
 *
 * @example
 * ```ts
 * await using lock = await mutex.acquire('invoice:42')
 * await db.update(invoice, { fencingToken: lock.fencingToken, signal: lock.signal })
 * ```
 */
export interface Lock extends AsyncDisposable {
  /** The resources this lock holds, as given to `acquire`. */
  readonly resources: readonly string[];
  /** The random token that identifies this holder in Redis; `extend` and `release` compare it. */
  readonly token: string;
  /**
   * Fencing token: strictly greater than the one of every earlier holder of
   * the same resource. Pass it to the storage you protect and have it reject
   * writes carrying a smaller token than the last it saw. `undefined` where
   * the implementation cannot issue one (e.g. a Redlock quorum).
   */
  readonly fencingToken: bigint | undefined;
  /**
   * Until when the lock may be trusted, on the `performance.now()` clock
   * (ms). Moves forward with each successful extension.
   */
  readonly validUntil: number;
  /** Ms of validity left (0 once lost, released or run out). */
  readonly remainingMs: number;
  /** True while the lock is held and its validity has not run out. */
  readonly isValid: boolean;
  /**
   * Replicas that acknowledged the acquire, when it was made with the
   * `replicas` option; otherwise `undefined`.
   */
  readonly replicas: number | undefined;
  /**
   * Aborted, with a {@link LockLostError} as its reason, as soon as the lock
   * is known or presumed lost: an extension found it gone or taken, or its
   * validity ran out before an extension was confirmed. It fires at
   * `validUntil`, which is before the lease could expire on Redis. Releasing
   * the lock does not abort it.
   */
  readonly signal: AbortSignal;
  /**
   * Resets the lease to `ttl` (default: the ttl it was acquired with), if this
   * holder still holds it.
   *
   * @throws LockLostError when the lock is no longer held (and aborts `signal`).
   * @throws RedisUnavailableError when Redis did not answer; the lock stays held until its validity runs out.
   */
  extend(ttl?: Duration): Promise<void>;
  /**
   * Releases the lock if this holder still holds it; never deletes another
   * holder's lock. Calling it again returns the first call's status.
   */
  release(): Promise<ReleaseStatus>;
  /** Releases the lock (`await using lock = await mutex.acquire(...)`). */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A lock issued by Redis with a fencing token: what `Mutex`, `Semaphore` and `ReadWriteLock` return. */
export interface FencedLock extends Lock {
  readonly fencingToken: bigint;
}
