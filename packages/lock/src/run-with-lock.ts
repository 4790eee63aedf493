import { LockLostError } from './errors.js';
import type { Lock } from './lock.js';

/** Options of {@link runWithLock}. */
export interface RunWithLockOptions {
  /**
   * Extend the lock this often (ms) while the function runs; `false` never
   * extends. `withLock` passes a third of the lock's ttl.
   */
  extendEvery: number | false;
  /** Also aborts the function's signal (not the lock). */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `fn` while holding an already acquired lock of any implementation
 * (this package's, or another implementing {@link Lock}), then releases it:
 * what `withLock` does after acquiring.
 *
 * - The lock is extended every `extendEvery` ms; while Redis does not answer,
 *   sooner, as long as validity is left.
 * - `fn` gets a signal that aborts when the lock is lost or its validity runs
 *   out (the lock's own `signal`), or when `options.signal` aborts.
 * - If `fn` throws, that error is what rejects; a failed release is attached
 *   to it as `releaseError`, never substituted.
 * - If `fn` returns but the lock was lost meanwhile, it rejects with
 *   {@link LockLostError}. If only the release fails, `fn`'s value is returned
 *   (the lock expires on its own).
 * - Every timer is cleared before it settles.
 *
 * @example
 * ```ts
 * const lock = await mutex.acquire('report')
 * const report = await runWithLock(lock, (signal) => build({ signal }), { extendEvery: 3_000 })
 * ```
 */
export async function runWithLock<L extends Lock, T>(
  lock: L,
  fn: (signal: AbortSignal, lock: L) => T | Promise<T>,
  options: RunWithLockOptions,
): Promise<T> {
  const signal = options.signal ? AbortSignal.any([lock.signal, options.signal]) : lock.signal;
  const extender = options.extendEvery === false ? undefined : new AutoExtender(lock, options.extendEvery);
  let value: T | undefined;
  let failed = false;
  let fnError: unknown;
  try {
    value = await fn(signal, lock);
  } catch (error) {
    failed = true;
    fnError = error;
  } finally {
    extender?.stop();
  }
  // Checked before releasing (reading isValid notices a validity that ran out):
  // a function that blocked the event loop returns before the lock's timer fired.
  const lost = !lock.isValid || lock.signal.aborted;
  let status: string | undefined;
  let releaseError: unknown;
  try {
    status = await lock.release();
  } catch (error) {
    releaseError = error;
  }
  if (failed) {
    if (releaseError !== undefined) attachReleaseError(fnError, releaseError);
    throw fnError;
  }
  // The function finished, but the lock may not have been exclusive all along.
  if (lost) {
    throw lock.signal.reason instanceof LockLostError
      ? lock.signal.reason
      : new LockLostError(lock.resources, 'validity', { cause: lock.signal.reason });
  }
  if (status !== undefined && status !== 'released') {
    throw new LockLostError(lock.resources, status === 'taken' ? 'taken' : 'expired');
  }
  return value as T;
}

/** Extends a lock every `every` ms until stopped; retries sooner while Redis does not answer. */
class AutoExtender {
  private readonly lock: Lock;
  private readonly every: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(lock: Lock, every: number) {
    this.lock = lock;
    this.every = Math.max(1, every);
    this.schedule(this.every);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), Math.max(1, Math.round(delay)));
    // The function being run keeps the process busy if it needs to; this timer must not.
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    this.lock.extend().then(
      () => this.schedule(this.every),
      (error: unknown) => {
        // A lost lock has aborted its signal; there is nothing left to extend.
        if (error instanceof LockLostError || this.lock.signal.aborted) return;
        // Redis did not answer: try again while some validity is left (the
        // lock's own timer aborts the signal when it runs out).
        this.schedule(Math.max(10, Math.min(this.every, this.lock.remainingMs / 4)));
      },
    );
  }
}

/** Attaches a release failure to the error `fn` threw, without replacing it. */
function attachReleaseError(error: unknown, releaseError: unknown): void {
  if (typeof error !== 'object' || error === null || !Object.isExtensible(error)) return;
  Object.defineProperty(error, 'releaseError', {
    value: releaseError,
    configurable: true,
    writable: true,
    enumerable: false,
  });
}
