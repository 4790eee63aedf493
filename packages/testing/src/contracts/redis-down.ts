import { type RedisConnection, RedisUnavailableError } from '@redkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientOptions, StandaloneRedis } from '../standalone.js';
import { startStandalone } from '../standalone.js';
import { sleep } from '../wait.js';

/** What {@link redisDownContract} needs to know about a pattern. */
export interface RedisDownOptions<Instance, Recovered> {
  /**
   * The test's title.
   * @default 'calls fail with RedisUnavailableError within the timeout, and work again after a restart'
   */
  title?: string;
  /**
   * Options of the client given to `build`.
   * @default { commandTimeout: 500 }
   */
  client?: ClientOptions;
  /** Builds the instance under test on `redis` (give it a timeout below `boundMs`). */
  build: (redis: RedisConnection) => Instance;
  /** Runs while Redis is up (writes something, starts a consumer …). */
  before?: (instance: Instance) => Promise<void>;
  /** The calls that must each fail with `RedisUnavailableError` within `boundMs` while Redis is down. */
  calls: (instance: Instance) => readonly (() => Promise<unknown>)[];
  /**
   * Bound on each failing call: the timeout plus scheduling slack on a busy
   * machine, never a hang.
   * @default 3_000
   */
  boundMs?: number;
  /** More checks while Redis is still down, after the calls (health reports, background loops). */
  whileDown?: (instance: Instance) => Promise<void>;
  /**
   * After the restart: a call that must succeed again. It is retried (every
   * 100 ms, up to 50 times) while it rejects, so make it idempotent: a try
   * that timed out may still have been applied.
   */
  recover: (instance: Instance) => Promise<Recovered>;
  /** Checks what `recover` returned and the state after it (the restarted server kept no data). */
  verify?: (instance: Instance, recovered: Recovered) => Promise<void>;
  /** Releases the instance (connections, timers) at the end of the test. */
  close?: (instance: Instance) => Promise<void>;
  /** Test timeout in ms. @default 60_000 */
  timeoutMs?: number;
}

/**
 * Contract "Redis down": starts a private standalone server (never the shared
 * one), builds the instance, kills the server, and proves that every listed
 * call fails with `RedisUnavailableError` within `boundMs` (no hang, no other
 * error), then restarts the server and proves the instance works again
 * without being rebuilt (`recover` succeeds within 50 tries, then `verify`).
 * Declares one `describe` block with its own server; call it at the top level
 * of a test file. Users can run it against their own wrappers.
 *
 * @example
 * ```ts
 * redisDownContract({
 *   build: (redis) => new MyStore({ redis, timeout: 300 }),
 *   calls: (store) => [() => store.get('a'), () => store.set('a', 1)],
 *   recover: (store) => store.set('b', 2),
 *   verify: async (store) => expect(await store.get('b')).toBe(2),
 * });
 * ```
 */
export function redisDownContract<Instance, Recovered>(options: RedisDownOptions<Instance, Recovered>): void {
  const {
    title = 'calls fail with RedisUnavailableError within the timeout, and work again after a restart',
    boundMs = 3_000,
    timeoutMs = 60_000,
  } = options;
  describe('Redis down (standalone)', () => {
    let server: StandaloneRedis;
    beforeAll(async () => {
      server = await startStandalone();
    });
    afterAll(() => server?.stop());

    it(
      title,
      async () => {
        const instance = options.build(server.client(options.client ?? { commandTimeout: 500 }));
        try {
          await options.before?.(instance);
          await server.node.kill();
          try {
            for (const call of options.calls(instance)) {
              const started = performance.now();
              const error = await call().catch((e: unknown) => e);
              expect(error).toBeInstanceOf(RedisUnavailableError);
              expect(performance.now() - started).toBeLessThan(boundMs);
            }
            await options.whileDown?.(instance);
          } finally {
            await server.node.restart();
          }
          // The restarted server kept nothing (no persistence in the harness) and has no script loaded.
          let recovered: { value: Recovered } | undefined;
          for (let attempt = 0; attempt < 50 && !recovered; attempt++) {
            recovered = await options.recover(instance).then(
              (value) => ({ value }),
              async () => {
                await sleep(100);
                return undefined;
              },
            );
          }
          expect(recovered, 'a call succeeds again after the restart').toBeDefined();
          await options.verify?.(instance, (recovered as { value: Recovered }).value);
        } finally {
          await options.close?.(instance);
        }
      },
      timeoutMs,
    );
  });
}
