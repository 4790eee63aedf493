import type { Cluster, Redis } from 'ioredis';
import { TelemetryEmitter } from './telemetry.js';

/** Events of a connection made by {@link connect}. */
export type ConnectionEvents = {
  /**
   * The client failed to reach or talk to Redis (refused, reset, DNS, TLS,
   * auth…). It keeps reconnecting with backoff; commands meanwhile fail by
   * their own timeouts and patterns report them in their own events.
   */
  'redis-error': { error: Error; address: string };
  /** The client is connected and ready again after a `redis-error`. */
  recovered: { address: string; downMs: number };
};

const emitters = new WeakMap<object, TelemetryEmitter<ConnectionEvents>>();

/**
 * The events of a connection opened by {@link connect}: `redis-error` for every
 * error the client reports and `recovered` when it is ready again. Pass them to
 * `instrument()` from `@redkit/core/otel` for metrics, or log them.
 *
 * While nobody handles a connection's errors (no listener here and no
 * `redis.on('error')` of your own), redkit reports the first error of each
 * outage as one process warning (`REDKIT_REDIS_UNREACHABLE`) instead of the
 * stack trace ioredis would print on every reconnect attempt.
 *
 * @returns the emitter, or `undefined` for a client that `connect()` did not open.
 * @example
 * ```ts
 * const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
 * connectionEvents(redis)?.on('redis-error', ({ error, address }) => log.warn({ address, err: error }, 'redis down'))
 * ```
 */
export function connectionEvents(redis: Redis | Cluster): TelemetryEmitter<ConnectionEvents> | undefined {
  return emitters.get(redis);
}

/**
 * Gives a new client its error listener, so ioredis never finds `error`
 * unhandled (it would print `[ioredis] Unhandled error event` with a stack on
 * every failed attempt), and routes the errors to {@link connectionEvents}.
 */
export function watchConnection(redis: Redis | Cluster, address: string): void {
  const events = new TelemetryEmitter<ConnectionEvents>('connection');
  emitters.set(redis, events);
  let downSince: number | undefined;
  const onError = (error: Error) => {
    const firstOfOutage = downSince === undefined;
    downSince ??= Date.now();
    const handled = events.listens('redis-error') || redis.listenerCount('error') > 1;
    events.emit('redis-error', { error, address });
    // One line per outage, not per attempt: enough to notice a wrong URL or a
    // stopped server, and silent once the application handles errors itself.
    if (firstOfOutage && !handled) {
      // A cluster's "Failed to refresh slots cache" carries the reason in lastNodeError.
      const last = (error as { lastNodeError?: unknown }).lastNodeError;
      const reason = last instanceof Error ? `${error.message} (${last.message})` : error.message;
      process.emitWarning(
        `cannot reach Redis at ${address}: ${reason}; retrying with backoff. Handle it with redis.on('error') or connectionEvents(redis).`,
        { code: 'REDKIT_REDIS_UNREACHABLE' },
      );
    }
  };
  redis.on('error', onError);
  redis.on('ready', () => {
    if (downSince === undefined) return;
    const downMs = Date.now() - downSince;
    downSince = undefined;
    events.emit('recovered', { address, downMs });
  });
}
