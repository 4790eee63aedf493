import type { RedisDriver } from './driver.js';

/** How long one measured offset is trusted before it is measured again. */
const resyncMs = 60_000;

/**
 * The Redis server's clock as seen from this process: the local clock plus
 * an offset measured with `TIME` (corrected by half the round trip), kept
 * fresh in the background. For code that must compare a time written by a
 * script (from `TIME`) with "now" without a round trip, e.g. a cache entry's
 * logical expiry on a plain GET hit. Until the first measurement returns, or
 * when Redis is unreachable, it reads the local clock.
 *
 * @example
 * ```ts
 * const clock = serverClock(driverFor(redis))
 * if (clock.now() >= entry.freshUntil) refresh()
 * ```
 */
export interface ServerClock {
  /** Milliseconds since the epoch on the server's clock (estimated). */
  now(): number;
  /** The last measured offset (server − local) in ms, 0 before the first measurement. */
  readonly offsetMs: number;
  /** Measures the offset now; resolves when done (never rejects). */
  sync(): Promise<void>;
}

class DriverClock implements ServerClock {
  offsetMs = 0;
  private syncedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | undefined;

  constructor(private readonly driver: RedisDriver) {}

  now(): number {
    const local = Date.now();
    if (local - this.syncedAt > resyncMs && !this.pending) void this.sync();
    return local + this.offsetMs;
  }

  sync(): Promise<void> {
    this.pending ??= this.measure().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async measure(): Promise<void> {
    // Marked first, so a failing server is retried once a minute, not on every now().
    this.syncedAt = Date.now();
    try {
      const sent = Date.now();
      const [seconds, micros] = await this.driver.command<[string, string]>('TIME', []);
      const received = Date.now();
      const server = Number(seconds) * 1000 + Number(micros) / 1000;
      this.offsetMs = Math.round(server - (sent + received) / 2);
    } catch {
      // Unreachable: keep the last offset (0 at first); the next now() after a minute tries again.
    }
  }
}

const clocks = new WeakMap<RedisDriver, ServerClock>();

/** The (shared) server clock of a driver's connection. */
export function serverClock(driver: RedisDriver): ServerClock {
  let clock = clocks.get(driver);
  if (!clock) {
    clock = new DriverClock(driver);
    clocks.set(driver, clock);
  }
  return clock;
}
