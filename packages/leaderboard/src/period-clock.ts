import { InvalidOptionsError } from '@redkit/core';

/**
 * The time that decides which period a call falls in. By default it is the
 * Redis server's clock, estimated as this process's clock plus the offset
 * learned whenever a submit was refused for landing in the wrong period (the
 * submit script checks its periods against `TIME`). An injected clock is used
 * as is and not checked.
 */
export class PeriodClock {
  private offsetMs = 0;
  private readonly clock: (() => number) | undefined;

  constructor(clock: (() => number) | undefined) {
    this.clock = clock;
  }

  /** Whether the server's clock checks submits (no injected clock). */
  get checked(): boolean {
    return this.clock === undefined;
  }

  now(): number {
    if (!this.clock) return Date.now() + this.offsetMs;
    const now = this.clock();
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new InvalidOptionsError([{ path: 'clock', message: `returned ${String(now)}, not ms since the epoch` }], {
        context: 'Leaderboard',
      });
    }
    return now;
  }

  /** Adopts the server's clock reading. */
  learn(serverMs: number): void {
    this.offsetMs = serverMs - Date.now();
  }
}
