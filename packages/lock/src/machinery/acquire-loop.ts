/**
 * Shared lock machinery: the acquire loop every lock kind (mutex, semaphore,
 * read-write lock, Redlock) runs: attempts, backoff with jitter, wake-ups,
 * deadlines, abort and close, handing back a `HeldLock`.
 */
import { randomUUID } from 'node:crypto';
import { parseOptions, RedisUnavailableError, TelemetryEmitter } from '@redkit/core';
import type { z } from 'zod';
import { LockBusyError, LockClosedError } from '../errors.js';
import type { LockEvents } from '../events.js';
import type { ResolvedLockOptions, withLockOptionsSchema } from '../options.js';
import { runWithLock } from '../run-with-lock.js';
import { onAbort } from './abort-listeners.js';
import { HeldLock, type LeaseOps, type LockContext } from './held-lock.js';
import type { ResourceKeys } from './resources.js';
import type { Waiter, WakeUps } from './wake-ups.js';

/**
 * One attempt's answer, one integer (the cheapest reply to send and decode):
 * above 0 when acquired (the fencing token, for kinds that issue them), 0 when
 * busy with no hint, below 0 when busy and the lock may be free in
 * `-reply - 1` ms.
 */
export type AttemptReply = number;

/** The {@link AttemptReply} of a busy attempt whose blocker's lease ends in `ms` (negative: unknown). */
export function busyReply(ms: number): AttemptReply {
  return ms >= 0 ? -1 - ms : 0;
}

/** How one kind of lock takes its lock. */
export interface AcquireSpec {
  readonly keys: ResourceKeys;
  /**
   * One attempt (see {@link AttemptReply}); rejects with
   * `RedisUnavailableError` when Redis did not answer.
   */
  attempt(token: string, ttlMs: number, waitFlagMs: number, timeoutMs: number): Promise<AttemptReply>;
  readonly ops: LeaseOps;
  /**
   * Undoes what a call that gave up may have left in Redis under its token: a
   * lock whose acquire reply was lost, a writer intent. Must be idempotent.
   */
  cleanup(token: string, timeoutMs: number): Promise<unknown>;
  /** Busy attempts leave state behind (a writer intent), so giving up always cleans up. */
  readonly cleanupWhenBusy?: boolean;
  /** The error `acquire` throws when waiting ran out. @default a {@link LockBusyError} */
  busyError?(attempts: number, waitedMs: number): Error;
}

/** The settings of one call, after defaults. */
export interface CallSettings {
  ttlMs: number;
  waitMs: number;
  signal: AbortSignal | undefined;
  replicas: ResolvedLockOptions['replicas'];
}

/** Instance settings the loop needs. */
export interface LoopDefaults {
  readonly ttl: number;
  readonly wait: number;
  readonly retry: { readonly minDelay: number; readonly maxDelay: number };
  readonly driftFactor: number;
  readonly replicas?: ResolvedLockOptions['replicas'];
}

type Busy = { busy: true; attempts: number; waitedMs: number };

const sleepEnded = Symbol('sleep ended');

/**
 * The acquire loop every lock kind shares: per-call option handling, attempts
 * with exponential backoff and jitter (cut short by the holder's remaining
 * lease and by wake-ups), abort and close handling, validity of the lock it
 * returns, and `withLock`'s auto-extension. Subclasses say how a lock is
 * taken on their Redis (one server or cluster, or a quorum of servers).
 *
 * `Fence` is the type of the locks' fencing token (`undefined` when the kind
 * cannot issue one); `Acquired` the payload of the `acquired` event.
 */
export abstract class AcquireLoop<Fence extends bigint | undefined, Acquired extends object, Spec extends AcquireSpec>
  implements LockContext
{
  readonly events: TelemetryEmitter<LockEvents<Acquired>>;
  /** Bound on each call to Redis, in ms. */
  readonly timeoutMs: number;
  readonly driftFactor: number;
  /** Name of the owning class, for messages. */
  readonly kind: string;
  protected readonly defaults: LoopDefaults;
  /** Wakes waiters when a holder releases; undefined when waiters only poll. */
  protected wakeUps: WakeUps | undefined;
  private readonly closed = new AbortController();

  protected constructor(defaults: LoopDefaults, timeoutMs: number, pattern: string, kind: string) {
    this.defaults = defaults;
    this.timeoutMs = timeoutMs;
    this.driftFactor = defaults.driftFactor;
    this.kind = kind;
    this.events = new TelemetryEmitter<LockEvents<Acquired>>(pattern);
  }

  /** The settings of one call, validated with the kind's `schema` before anything is sent. */
  settings(
    options: object | undefined,
    schema: z.ZodType,
    context: string,
    waits: boolean,
  ): CallSettings & { autoExtend: boolean } {
    const defaults = this.defaults;
    if (options === undefined) {
      return {
        ttlMs: defaults.ttl,
        waitMs: waits ? defaults.wait : 0,
        signal: undefined,
        replicas: defaults.replicas,
        autoExtend: true,
      };
    }
    const parsed = parseOptions(schema, options, context) as Partial<z.output<typeof withLockOptionsSchema>>;
    const replicas = parsed.replicas === false ? undefined : (parsed.replicas ?? defaults.replicas);
    if (parsed.replicas) this.checkReplicas(parsed.replicas, 'replicas', context);
    return {
      ttlMs: parsed.ttl ?? defaults.ttl,
      waitMs: waits ? (parsed.wait ?? defaults.wait) : 0,
      signal: parsed.signal,
      replicas,
      autoExtend: parsed.autoExtend ?? true,
    };
  }

  /** `acquire`: waits, then throws {@link LockBusyError} (or the spec's own busy error). */
  async acquire(spec: Spec, settings: CallSettings): Promise<HeldLock<Fence>> {
    const result = await this.take(spec, settings);
    if ('busy' in result) {
      throw spec.busyError
        ? spec.busyError(result.attempts, result.waitedMs)
        : new LockBusyError(spec.keys.resources, result.attempts, result.waitedMs);
    }
    return result;
  }

  /** `tryAcquire`: one attempt, `null` when busy. */
  async tryAcquire(spec: Spec, settings: CallSettings): Promise<HeldLock<Fence> | null> {
    const result = await this.take(spec, settings);
    return 'busy' in result ? null : result;
  }

  /**
   * `withLock`: acquires, runs `fn` while extending the lease every third of
   * its ttl, then releases. `fn`'s signal aborts when the lock is lost (or the
   * caller's signal aborts). `fn`'s own error is what rejects; a release
   * failure is attached to it as `releaseError`.
   */
  async withLock<T>(
    spec: Spec,
    settings: CallSettings & { autoExtend: boolean },
    fn: (signal: AbortSignal, lock: HeldLock<Fence>) => T | Promise<T>,
  ): Promise<T> {
    const lock = await this.acquire(spec, settings);
    return runWithLock(lock, fn, {
      extendEvery: settings.autoExtend ? settings.ttlMs / 3 : false,
      signal: settings.signal,
    });
  }

  async close(): Promise<void> {
    if (!this.closed.signal.aborted) this.closed.abort(new LockClosedError(this.kind));
    await this.wakeUps?.close();
  }

  /** Checks a call's `replicas` option; kinds without WAIT never get one (their schemas reject it). */
  protected checkReplicas(_replicas: NonNullable<ResolvedLockOptions['replicas']>, _path: string, _context: string) {}

  /**
   * Runs after a valid lock was taken and before it is returned (WAIT for
   * replicas); may release it and throw. `undefined` when there is nothing to
   * do, so the common path awaits nothing more.
   */
  protected afterAcquire(_lock: HeldLock<Fence>, _spec: Spec, _settings: CallSettings): Promise<void> | undefined {
    return undefined;
  }

  /** The payload of the `acquired` event. */
  /** The fencing token of an acquired attempt's reply (`undefined` for kinds without). */
  protected abstract fenceOf(reply: AttemptReply): Fence;

  protected abstract acquiredEvent(lock: HeldLock<Fence>, attempts: number, durationMs: number): Acquired;

  private async take(spec: Spec, settings: CallSettings): Promise<HeldLock<Fence> | Busy> {
    const closed = this.closed.signal;
    const { signal, ttlMs, waitMs } = settings;
    if (closed.aborted) throw closed.reason;
    signal?.throwIfAborted();
    const { retry } = this.defaults;
    const token = randomUUID();
    const started = performance.now();
    const deadline = started + waitMs;
    let attempts = 0;
    let unknownOutcome = false;
    let leftState = false;
    let lastError: RedisUnavailableError | undefined;
    let waiter: Waiter | undefined;
    try {
      for (;;) {
        if (closed.aborted) throw closed.reason;
        signal?.throwIfAborted();
        if (waiter) waiter.signalled = false;
        const sentAt = performance.now();
        const waitLeft = deadline - sentAt;
        // Waiters keep the flag set so releases publish a wake-up; the flag
        // outlives the pause before the next attempt.
        const flagMs =
          this.wakeUps && waitLeft > 0 ? Math.ceil(Math.min(waitLeft, retry.maxDelay) + retry.maxDelay) : 0;
        let reply: AttemptReply | undefined;
        attempts++;
        try {
          reply = await spec.attempt(token, ttlMs, flagMs, this.timeoutMs);
          lastError = undefined;
          if (flagMs > 0) leftState = true;
        } catch (error) {
          if (!(error instanceof RedisUnavailableError)) throw error;
          // A timed-out attempt may have taken the lock; retries with the same token are idempotent.
          if (error.timedOut) unknownOutcome = true;
          lastError = error;
          this.events.emit('redis-failure', {
            resource: spec.keys.resources.join(','),
            operation: 'acquire',
            error: error.message,
          });
        }

        if (reply !== undefined && reply > 0) {
          const fence = this.fenceOf(reply);
          const lock = new HeldLock(this, spec.ops, spec.keys, token, fence, ttlMs, sentAt);
          if (signal?.aborted || closed.aborted) {
            void lock.release().catch(() => {});
            throw signal?.aborted ? signal.reason : closed.reason;
          }
          if (lock.isValid) {
            const after = this.afterAcquire(lock, spec, settings);
            if (after) await after;
            if (this.events.listens('acquired')) {
              this.events.emit('acquired', this.acquiredEvent(lock, attempts, performance.now() - started));
            }
            return lock;
          }
          // The reply came after the lease could have run out: useless, give it back.
          void lock.release().catch(() => {});
        }

        const now = performance.now();
        if (now >= deadline) break;
        if (!waiter && this.wakeUps && reply !== undefined) {
          waiter = this.wakeUps.register(spec.keys.ids);
          // A release may have been published before the subscription was live: look again at once.
          if (await this.wakeUps.subscribe()) continue;
        }
        if (waiter?.signalled && reply !== undefined) continue;
        const hint = reply !== undefined && reply < 0 ? -reply - 1 : undefined;
        const delay = this.pauseFor(attempts, hint, deadline - now);
        await this.sleep(delay, signal, waiter);
      }
    } catch (error) {
      if (unknownOutcome || (spec.cleanupWhenBusy && leftState)) void this.cleanup(spec, token, false);
      throw error;
    } finally {
      if (waiter) this.wakeUps?.unregister(waiter);
    }
    // When Redis answers, the call ends only after its traces are gone (a
    // writer intent must not hold readers back after acquireWrite gave up).
    if (unknownOutcome || (spec.cleanupWhenBusy && leftState)) await this.cleanup(spec, token, !lastError);
    if (lastError) throw lastError;
    const waitedMs = performance.now() - started;
    this.events.emit('busy', { resource: spec.keys.resources.join(','), attempts, durationMs: waitedMs });
    return { busy: true, attempts, waitedMs };
  }

  /** Exponential backoff with equal jitter, cut short when the holder's lease ends sooner. */
  private pauseFor(attempts: number, hintMs: number | undefined, leftMs: number): number {
    const { minDelay, maxDelay } = this.defaults.retry;
    const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(attempts - 1, 20));
    let delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    // A little jitter on the hint too, so waiters of an expiring lock do not all arrive at once.
    if (hintMs !== undefined) delay = Math.min(delay, hintMs + 1 + Math.random() * Math.min(minDelay, 25));
    return Math.max(0, Math.min(delay, leftMs));
  }

  private sleep(ms: number, signal: AbortSignal | undefined, waiter: Waiter | undefined): Promise<void> {
    const closed = this.closed.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted || closed.aborted) {
        reject(signal?.aborted ? signal.reason : closed.reason);
        return;
      }
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stopSignal?.();
        stopClosed();
        if (waiter) waiter.wake = undefined;
        if (error === sleepEnded) resolve();
        else reject(error);
      };
      const onAborted = () => finish(signal?.aborted ? signal.reason : closed.reason);
      const timer = setTimeout(() => finish(sleepEnded), ms);
      // Through onAbort: every waiting call shares the close signal (and maybe the caller's).
      const stopSignal = signal && onAbort(signal, onAborted);
      const stopClosed = onAbort(closed, onAborted);
      if (waiter) waiter.wake = () => finish(sleepEnded);
    });
  }

  /** Best effort: the call has already failed or given up. Waited for only when asked to. */
  private async cleanup(spec: Spec, token: string, wait: boolean): Promise<void> {
    const done = spec.cleanup(token, this.timeoutMs).catch(() => {});
    if (wait) await done;
  }
}
