import { randomUUID } from 'node:crypto';
import {
  type CallOptions,
  driverFor,
  InvalidOptionsError,
  Keyspace,
  parseOptions,
  type RedisDriver,
  RedisUnavailableError,
  TelemetryEmitter,
  warnIfEvictable,
} from '@redkit/core';
import type { z } from 'zod';
import { LockBusyError, LockClosedError, LockReplicationError } from './errors.js';
import type { LockEvents } from './events.js';
import { HeldLock, type LeaseOps, type LockContext } from './held-lock.js';
import type { FencedLock } from './lock.js';
import type {
  AcquireOptions,
  acquireOptionsSchema,
  ResolvedLockOptions,
  TryAcquireOptions,
  tryAcquireOptionsSchema,
  WithLockOptions,
  withLockOptionsSchema,
} from './options.js';
import type { ResourceKeys } from './resources.js';
import { runWithLock } from './run-with-lock.js';
import { type Waiter, WakeUps } from './wake-ups.js';

/** How one kind of lock takes its lock in Redis. */
export interface AcquireSpec {
  readonly keys: ResourceKeys;
  /** One attempt. Resolves `[1, fencing token]` when acquired, `[0, ms until it may be free or -1]` when busy. */
  attempt(token: string, ttlMs: number, waitFlagMs: number, timeoutMs: number): Promise<[number, number | string]>;
  readonly ops: LeaseOps;
  /**
   * Undoes what a call that gave up may have left in Redis under its token: a
   * lock whose acquire reply was lost, a writer intent. Must be idempotent.
   */
  cleanup(token: string, timeoutMs: number): Promise<unknown>;
  /** Busy attempts leave state behind (a writer intent), so giving up always cleans up. */
  readonly cleanupWhenBusy?: boolean;
  /** A key in the resources' slot: WAIT must reach the master that holds the lock. */
  readonly routeKey: string;
}

interface CallSettings {
  ttlMs: number;
  waitMs: number;
  signal: AbortSignal | undefined;
  replicas: ResolvedLockOptions['replicas'];
}

type Busy = { busy: true; attempts: number; waitedMs: number };

const sleepEnded = Symbol('sleep ended');

/**
 * Everything the lock kinds share: option handling, the acquire loop with
 * backoff, jitter and wake-ups, WAIT for replicas, and `withLock`'s
 * auto-extension. One per `Mutex`, `Semaphore` or `ReadWriteLock`.
 */
export class LockEngine implements LockContext {
  readonly events: TelemetryEmitter<LockEvents>;
  readonly driver: RedisDriver;
  readonly keyspace: Keyspace;
  readonly options: ResolvedLockOptions;
  readonly timeoutMs: number;
  readonly driftFactor: number;
  /** Name of the owning class, for messages. */
  readonly kind: string;
  private readonly wakeUps: WakeUps | undefined;
  private readonly closed = new AbortController();

  constructor(options: ResolvedLockOptions, pattern: string, kind: string) {
    this.options = options;
    this.kind = kind;
    this.keyspace = new Keyspace(options.namespace);
    this.driver = driverFor(options.redis);
    this.timeoutMs = options.timeout ?? this.driver.timeoutMs;
    this.driftFactor = options.driftFactor;
    this.checkReplicas(options.replicas, 'replicas', kind);
    this.events = new TelemetryEmitter<LockEvents>(pattern);
    if (options.wakeUp === 'pubsub') {
      this.wakeUps = new WakeUps(this.driver, `${options.namespace}:released`, (error) =>
        this.events.emit('redis-failure', {
          resource: '',
          operation: 'acquire',
          error: `wake-up subscription failed, waiters poll: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
    }
    // Locks must not be evicted under memory pressure; say so once if they may be.
    void warnIfEvictable(this.driver, kind);
  }

  /**
   * Per-call options for a bound of `timeoutMs`: none when it is the client's
   * own command timeout, which bounds the call without an extra timer.
   */
  call(timeoutMs: number): CallOptions | undefined {
    return timeoutMs === this.driver.timeoutMs ? undefined : { timeoutMs };
  }

  /** The pub/sub channel of wake-up messages. */
  get channel(): string {
    return `${this.options.namespace}:released`;
  }

  /** The settings of one call, validated before anything is sent. */
  settings(
    options: AcquireOptions | TryAcquireOptions | WithLockOptions | undefined,
    schema: typeof acquireOptionsSchema | typeof tryAcquireOptionsSchema | typeof withLockOptionsSchema,
    context: string,
    waits: boolean,
  ): CallSettings & { autoExtend: boolean } {
    const defaults = this.options;
    if (options === undefined) {
      return {
        ttlMs: defaults.ttl,
        waitMs: waits ? defaults.wait : 0,
        signal: undefined,
        replicas: defaults.replicas,
        autoExtend: true,
      };
    }
    const parsed = parseOptions(schema as z.ZodType, options, context) as z.output<typeof withLockOptionsSchema>;
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

  /** `acquire`: waits, then throws {@link LockBusyError}. */
  async acquire(spec: AcquireSpec, settings: CallSettings): Promise<FencedLock> {
    const result = await this.take(spec, settings);
    if ('busy' in result) throw new LockBusyError(spec.keys.resources, result.attempts, result.waitedMs);
    return result;
  }

  /** `tryAcquire`: one attempt, `null` when busy. */
  async tryAcquire(spec: AcquireSpec, settings: CallSettings): Promise<FencedLock | null> {
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
    spec: AcquireSpec,
    settings: CallSettings & { autoExtend: boolean },
    fn: (signal: AbortSignal, lock: FencedLock) => T | Promise<T>,
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

  private checkReplicas(replicas: ResolvedLockOptions['replicas'], path: string, context: string): void {
    if (replicas && replicas.timeout >= this.driver.timeoutMs) {
      throw new InvalidOptionsError(
        [
          {
            path: `${path}.timeout`,
            message: `must be less than the client's command timeout (${this.driver.timeoutMs}ms): WAIT blocks the connection until then`,
          },
        ],
        { context },
      );
    }
  }

  private async take(spec: AcquireSpec, settings: CallSettings): Promise<HeldLock | Busy> {
    const closed = this.closed.signal;
    const { signal, ttlMs, waitMs } = settings;
    if (closed.aborted) throw closed.reason;
    signal?.throwIfAborted();
    const { retry } = this.options;
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
        let reply: [number, number | string] | undefined;
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

        if (reply && reply[0] === 1) {
          const lock = new HeldLock(this, spec.ops, spec.keys, token, BigInt(reply[1]), ttlMs, sentAt);
          if (signal?.aborted || closed.aborted) {
            void lock.release().catch(() => {});
            throw signal?.aborted ? signal.reason : closed.reason;
          }
          if (lock.isValid) {
            if (settings.replicas) await this.replicate(lock, spec, settings.replicas);
            if (this.events.listens('acquired')) {
              this.events.emit('acquired', {
                resource: lock.label,
                fencingToken: String(lock.fencingToken),
                attempts,
                durationMs: performance.now() - started,
              });
            }
            return lock;
          }
          // The reply came after the lease could have run out: useless, give it back.
          void lock.release().catch(() => {});
        }

        const now = performance.now();
        if (now >= deadline) break;
        if (!waiter && this.wakeUps && reply) {
          waiter = this.wakeUps.register(spec.keys.ids);
          // A release may have been published before the subscription was live: look again at once.
          if (await this.wakeUps.subscribe()) continue;
        }
        if (waiter?.signalled && reply) continue;
        const hint = reply && typeof reply[1] === 'number' && reply[1] >= 0 ? reply[1] : undefined;
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
    const { minDelay, maxDelay } = this.options.retry;
    const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(attempts - 1, 20));
    let delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    // A little jitter on the hint too, so waiters of an expiring lock do not all arrive at once.
    if (hintMs !== undefined) delay = Math.min(delay, hintMs + 1 + Math.random() * Math.min(minDelay, 25));
    return Math.max(0, Math.min(delay, leftMs));
  }

  private sleep(ms: number, signal: AbortSignal | undefined, waiter: Waiter | undefined): Promise<void> {
    const closed = this.closed.signal;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: unknown) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        closed.removeEventListener('abort', onAbort);
        if (waiter) waiter.wake = undefined;
        if (error === sleepEnded) resolve();
        else reject(error);
      };
      const onAbort = () => finish(signal?.aborted ? signal.reason : closed.reason);
      if (signal?.aborted || closed.aborted) {
        onAbort();
        return;
      }
      timer = setTimeout(() => finish(sleepEnded), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      closed.addEventListener('abort', onAbort, { once: true });
      if (waiter) waiter.wake = () => finish(sleepEnded);
    });
  }

  /** WAIT for replicas on the master that holds the lock; release it if too few acknowledged (by default). */
  private async replicate(
    lock: HeldLock,
    spec: AcquireSpec,
    replicas: NonNullable<ResolvedLockOptions['replicas']>,
  ): Promise<void> {
    let acknowledged: number;
    try {
      // Pipelined with a keyed read so a cluster client sends WAIT to the lock's master.
      const [[error, count] = [null, 0]] = await this.driver.pipeline(
        [
          ['WAIT', replicas.count, replicas.timeout],
          ['PTTL', spec.routeKey],
        ],
        { timeoutMs: replicas.timeout + this.timeoutMs },
      );
      if (error) throw error;
      acknowledged = Number(count);
    } catch (error) {
      this.events.emit('redis-failure', {
        resource: lock.label,
        operation: 'replicate',
        error: error instanceof Error ? error.message : String(error),
      });
      await lock.release().catch(() => {});
      throw error;
    }
    lock.replicas = acknowledged;
    if (acknowledged < replicas.count && replicas.onShortfall === 'release') {
      await lock.release().catch(() => {});
      throw new LockReplicationError(lock.resources, acknowledged, replicas.count);
    }
  }

  /** Best effort: the call has already failed or given up. Waited for only when asked to. */
  private async cleanup(spec: AcquireSpec, token: string, wait: boolean): Promise<void> {
    const done = spec.cleanup(token, this.timeoutMs).catch(() => {});
    if (wait) await done;
  }
}
