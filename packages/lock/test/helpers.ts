import { afterAll, vi } from 'vitest';

export { eventually, keysOf, sleep, waitFor } from '@redkit/testing';

/** Blocks the event loop: a holder that stalls (a long GC pause, a CPU-bound loop). */
export function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

interface Closable {
  close(): Promise<void>;
}

/** Closes every lock instance made through it after the describe block (their subscriber connections). */
export function closing(): <T extends Closable>(instance: T) => T {
  const instances: Closable[] = [];
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
  });
  return (instance) => {
    instances.push(instance);
    return instance;
  };
}

/**
 * Records the timers that @redkit/lock's own code sets while `run` runs, and
 * returns those still pending afterwards (neither fired nor cleared).
 */
export async function timersLeftBy(run: () => Promise<unknown>): Promise<{ set: number; pending: number }> {
  const original = globalThis.setTimeout;
  const created: NodeJS.Timeout[] = [];
  const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ) => {
    const timer = original(callback, ms, ...args);
    // Only timers set by the package itself (not by @redkit/core or ioredis on its behalf).
    const caller = new Error().stack
      ?.split('\n')
      .slice(1)
      .find((frame) => !frame.includes('/test/helpers.ts') && !frame.includes('node_modules'));
    if (caller?.includes('/packages/lock/src/')) created.push(timer);
    return timer;
  }) as typeof setTimeout);
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  // Node marks a timeout destroyed once it fired or was cleared.
  const pending = created.filter((timer) => !(timer as unknown as { _destroyed: boolean })._destroyed);
  return { set: created.length, pending: pending.length };
}
