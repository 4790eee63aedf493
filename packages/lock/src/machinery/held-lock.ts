/**
 * Shared lock machinery: the lock a caller holds, whatever its kind: its
 * validity, its `signal` when lost, extend, release and `Symbol.asyncDispose`.
 */
import { type Duration, parseOptions } from '@redkit/core';
import { LockLostError } from '../errors.js';
import type { LockEvents } from '../events.js';
import type { Lock, LockLostReason, ReleaseStatus } from '../lock.js';
import { extendSchema } from '../options.js';
import type { ResourceKeys } from './resources.js';

/** What one kind of lock does in Redis to extend or release a held lock. */
export interface LeaseOps {
  /** Resolves 1 (extended), 0 (expired) or -1 (taken). */
  extend(keys: ResourceKeys, token: string, ttlMs: number, timeoutMs: number): Promise<number>;
  /** Resolves 1 (released), 0 (expired) or -1 (taken). Also used to clean up after a call that gave up. */
  release(keys: ResourceKeys, token: string, timeoutMs: number): Promise<number>;
}

/** The events a held lock emits: those every lock kind has, whatever its `acquired` payload. */
interface LeaseEvents {
  listens(type: 'extended' | 'released' | 'lost' | 'redis-failure'): boolean;
  emit(type: 'extended', payload: LockEvents['extended']): void;
  emit(type: 'released', payload: LockEvents['released']): void;
  emit(type: 'lost', payload: LockEvents['lost']): void;
  emit(type: 'redis-failure', payload: LockEvents['redis-failure']): void;
}

/** What a held lock needs from the instance that issued it. */
export interface LockContext {
  readonly events: LeaseEvents;
  /** Bound on each call to Redis, in ms. */
  readonly timeoutMs: number;
  readonly driftFactor: number;
}

const statuses: Record<number, ReleaseStatus> = { 1: 'released', 0: 'expired', [-1]: 'taken' };

/**
 * The lease's validity as this process may count on it: measured from when
 * the successful call was sent (Redis set the expiry no earlier), minus a
 * drift allowance for clocks running at different rates (`driftFactor` of
 * the ttl + 2 ms), minus a lead for timers that fire late on a busy event
 * loop (5% of the ttl, at most 100 ms), so the signal fires in time.
 */
export function validityEnd(sentAt: number, ttlMs: number, driftFactor: number): number {
  return sentAt + ttlMs - (Math.floor(ttlMs * driftFactor) + 2) - Math.min(ttlMs * 0.05, 100);
}

/**
 * A lock this process holds: validity, signal, extend, release. `Fence` is
 * `bigint` for kinds that issue fencing tokens (a `FencedLock`), `undefined`
 * for the Redlock adapter.
 */
export class HeldLock<Fence extends bigint | undefined = bigint> implements Lock {
  readonly resources: readonly string[];
  readonly token: string;
  readonly fencingToken: Fence;
  replicas: number | undefined;
  /** The keys of the resources (used by the lock kind's operations). */
  readonly keys: ResourceKeys;
  /** The resources comma-separated, for events and messages. */
  readonly label: string;
  private ttlMs: number;
  private until: number;
  private state: 'held' | 'lost' | 'released' = 'held';
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lostError: LockLostError | undefined;
  private releasing: Promise<ReleaseStatus> | undefined;
  private readonly context: LockContext;
  private readonly ops: LeaseOps;

  constructor(
    context: LockContext,
    ops: LeaseOps,
    keys: ResourceKeys,
    token: string,
    fencingToken: Fence,
    ttlMs: number,
    sentAt: number,
  ) {
    this.context = context;
    this.ops = ops;
    this.keys = keys;
    this.resources = keys.resources;
    this.label = keys.resources.join(',');
    this.token = token;
    this.fencingToken = fencingToken;
    this.ttlMs = ttlMs;
    this.until = validityEnd(sentAt, ttlMs, context.driftFactor);
  }

  get validUntil(): number {
    return this.until;
  }

  get remainingMs(): number {
    this.checkValidity();
    return this.state === 'held' ? Math.max(0, this.until - performance.now()) : 0;
  }

  get isValid(): boolean {
    return this.remainingMs > 0;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      this.checkValidity();
      if (this.state === 'lost') this.controller.abort(this.lostError);
      else if (this.state === 'held') this.arm();
    }
    return this.controller.signal;
  }

  async extend(ttl?: Duration): Promise<void> {
    const ttlMs = ttl === undefined ? this.ttlMs : parseOptions(extendSchema, { ttl }, 'extend()').ttl;
    this.assertHeld();
    const sentAt = performance.now();
    // An answer that comes after the validity ran out is of no use.
    const timeoutMs = Math.max(1, Math.min(this.context.timeoutMs, Math.ceil(this.until - sentAt)));
    let code: number;
    try {
      code = await this.ops.extend(this.keys, this.token, ttlMs, timeoutMs);
    } catch (error) {
      this.emitFailure('extend', error);
      throw error;
    }
    this.assertHeld();
    if (code !== 1) {
      this.markLost(code === 0 ? 'expired' : 'taken');
      throw this.lostError;
    }
    this.ttlMs = ttlMs;
    this.until = validityEnd(sentAt, ttlMs, this.context.driftFactor);
    if (this.controller) this.arm();
    const events = this.context.events;
    if (events.listens('extended')) {
      events.emit('extended', { resource: this.label, ttlMs, durationMs: performance.now() - sentAt });
    }
  }

  release(): Promise<ReleaseStatus> {
    if (this.releasing) return this.releasing;
    const released = this.sendRelease();
    this.releasing = released;
    // A failed release may be tried again.
    released.catch(() => {
      if (this.releasing === released) this.releasing = undefined;
    });
    return released;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  /** Marks the lock lost and aborts its signal; no-op unless held. */
  markLost(reason: LockLostReason): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    this.clearTimer();
    this.lostError = new LockLostError(this.resources, reason);
    this.controller?.abort(this.lostError);
    this.context.events.emit('lost', { resource: this.label, reason });
  }

  private async sendRelease(): Promise<ReleaseStatus> {
    const started = performance.now();
    let code: number;
    try {
      code = await this.ops.release(this.keys, this.token, this.context.timeoutMs);
    } catch (error) {
      this.emitFailure('release', error);
      throw error;
    }
    const status = statuses[code] ?? 'expired';
    if (this.state === 'held') this.state = 'released';
    this.clearTimer();
    const events = this.context.events;
    if (events.listens('released')) {
      events.emit('released', { resource: this.label, status, durationMs: performance.now() - started });
    }
    return status;
  }

  private assertHeld(): void {
    if (this.state === 'released') throw new LockLostError(this.resources, 'released');
    this.checkValidity();
    if (this.state === 'lost') throw this.lostError;
  }

  private checkValidity(): void {
    if (this.state === 'held' && performance.now() >= this.until) this.markLost('validity');
  }

  /** Aborts the signal when the validity runs out, unless an extension moves it first. */
  private arm(): void {
    this.clearTimer();
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, Math.ceil(this.until - performance.now())));
    // A held lock must not keep the process alive on its own.
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.state !== 'held') return;
    // Timers may fire a little early; the clock decides.
    if (performance.now() < this.until) this.arm();
    else this.markLost('validity');
  }

  private clearTimer(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private emitFailure(operation: 'extend' | 'release', error: unknown): void {
    this.context.events.emit('redis-failure', {
      resource: this.label,
      operation,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
