import type { CacheEvents } from '@redkit/cache';
import type { TelemetryEmitter } from '@redkit/core';
import type { LockEvents } from '@redkit/lock';
import type { QueueEvents } from '@redkit/queue';
import type { RateLimitEvents } from '@redkit/ratelimit';

/** Counters since the service started, fed only by the patterns' telemetry events. */
export interface Counters {
  cacheHits: number;
  cacheMisses: number;
  cacheStaleServed: number;
  /** Callers that did not run the loader because another call was already loading the key. */
  cacheCollapsed: number;
  cacheRefreshes: number;
  rateLimitAllowed: number;
  rateLimitDenied: number;
  /** Denials per limiter name (`api`, `orders`, `login`). */
  deniedBy: Record<string, number>;
  ordersQueued: number;
  ordersProcessed: number;
  ordersRetried: number;
  ordersDeadLettered: number;
  /** Messages put back because no database permit was free (not an attempt). */
  permitWaits: number;
  permitsAcquired: number;
  /** Background steps of consumers that failed (Redis trouble). */
  queueErrors: number;
}

/**
 * Aggregates telemetry into counters for the dashboard. The patterns emit
 * typed events synchronously; a listener only increments a number, so this
 * costs nothing measurable on the hot path.
 */
export class Metrics {
  readonly counters: Counters = {
    cacheHits: 0,
    cacheMisses: 0,
    cacheStaleServed: 0,
    cacheCollapsed: 0,
    cacheRefreshes: 0,
    rateLimitAllowed: 0,
    rateLimitDenied: 0,
    deniedBy: {},
    ordersQueued: 0,
    ordersProcessed: 0,
    ordersRetried: 0,
    ordersDeadLettered: 0,
    permitWaits: 0,
    permitsAcquired: 0,
    queueErrors: 0,
  };
  readonly startedAt = Date.now();
  private readonly detach: (() => void)[] = [];

  watchCache(events: TelemetryEmitter<CacheEvents>): void {
    const c = this.counters;
    this.detach.push(
      events.on('hit', () => c.cacheHits++),
      events.on('miss', () => c.cacheMisses++),
      events.on('stale-served', () => c.cacheStaleServed++),
      events.on('stampede-collapsed', () => c.cacheCollapsed++),
      events.on('refresh', () => c.cacheRefreshes++),
    );
  }

  watchLimiter(name: string, events: TelemetryEmitter<RateLimitEvents>): void {
    const c = this.counters;
    this.detach.push(
      events.on('allowed', () => c.rateLimitAllowed++),
      events.on('denied', () => {
        c.rateLimitDenied++;
        c.deniedBy[name] = (c.deniedBy[name] ?? 0) + 1;
      }),
    );
  }

  watchQueue(events: TelemetryEmitter<QueueEvents>): void {
    const c = this.counters;
    this.detach.push(
      events.on('added', ({ duplicate }) => {
        if (!duplicate) c.ordersQueued++;
      }),
      events.on('processed', () => c.ordersProcessed++),
      events.on('retried', () => c.ordersRetried++),
      events.on('dead-lettered', () => c.ordersDeadLettered++),
      events.on('throttled', () => c.permitWaits++),
      events.on('error', () => c.queueErrors++),
    );
  }

  watchSemaphore(events: TelemetryEmitter<LockEvents>): void {
    this.detach.push(events.on('acquired', () => this.counters.permitsAcquired++));
  }

  /** Hit ratio of the cache so far (stale serves count as hits: the caller did not wait for the database). */
  hitRatio(): number | null {
    const { cacheHits, cacheStaleServed, cacheMisses } = this.counters;
    const served = cacheHits + cacheStaleServed;
    const total = served + cacheMisses;
    return total === 0 ? null : served / total;
  }

  close(): void {
    for (const off of this.detach.splice(0)) off();
  }
}
