import { InvalidOptionsError, type RedisConnection } from '@redkit/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keysOf } from '../inspect.js';

/** One bad option: `[what is wrong, a call that builds the instance with it, text the error must contain]`. */
export type BadOptionCase = readonly [name: string, create: () => unknown, message: string];

/** One call with bad input: `[what is wrong, the call, text the error must contain]`. */
export type BadCallCase = readonly [name: string, call: () => unknown, message: string];

/**
 * Contract "a bad option is refused by name": declares one test per case,
 * proving that building the instance throws `InvalidOptionsError` (synchronously,
 * before anything can reach Redis) and that its message contains the case's
 * text (name the field: `ttl: must not be negative`). Call it inside a
 * `describe` (or `describeTopologies`) block.
 *
 * @example
 * ```ts
 * describeTopologies('bad input', (t) => {
 *   badOptionsContract([
 *     ['negative ttl', () => new MyStore({ redis: t.redis, ttl: -1 }), 'ttl: must not be negative'],
 *   ]);
 * });
 * ```
 */
export function badOptionsContract(cases: readonly BadOptionCase[]): void {
  it.each(cases.map((entry) => [...entry]))(
    '%s → InvalidOptionsError naming the field',
    (_case, create: () => unknown, message: string) => {
      expect(create).toThrow(InvalidOptionsError);
      expect(create).toThrow(message);
    },
  );
}

/** Where {@link badCallsContract} looks for writes. */
export interface BadCallsOptions {
  /** A client that can list every key (the admin connection of the test). */
  redis: () => RedisConnection;
  /** The namespace the instances under test write under. */
  namespace: string;
  /**
   * Whether the namespace holds keys before the cases run (written by a
   * `beforeAll` of the caller, declared before this call): they are listed
   * then, and must be exactly the same afterwards. Without them, the namespace
   * must hold no key at all afterwards.
   * @default false
   */
  existing?: boolean;
  /** More proof that nothing changed, run after the cases (e.g. a record read back unchanged). */
  unchanged?: () => Promise<void>;
}

/**
 * Contract "bad input writes nothing": declares one test per case, proving
 * that the call rejects (or throws) `InvalidOptionsError` whose message
 * contains the case's text, and, once every test of the enclosing block ran,
 * that no key under `namespace` was created, changed in number or removed, on
 * any node of a cluster. Call it inside a `describe` block that holds the
 * instances the cases call.
 *
 * @example
 * ```ts
 * describeTopologies('bad input', (t) => {
 *   const store = new MyStore({ redis: t.redis, namespace: t.namespace });
 *   badCallsContract([['empty id', () => store.get(''), 'id: must not be empty']], {
 *     redis: () => t.redis,
 *     namespace: t.namespace,
 *   });
 * });
 * ```
 */
export function badCallsContract(cases: readonly BadCallCase[], options: BadCallsOptions): void {
  let keysBefore: string[] = [];
  if (options.existing) {
    beforeAll(async () => {
      keysBefore = await keysOf(options.redis(), options.namespace);
    });
  }
  afterAll(async () => {
    // Nothing was written by any rejected call.
    expect(await keysOf(options.redis(), options.namespace)).toEqual(keysBefore);
    await options.unchanged?.();
  });
  it.each(cases.map((entry) => [...entry]))(
    '%s → InvalidOptionsError naming the field, nothing written',
    async (_case, call: () => unknown, message: string) => {
      const error = await (async () => call())().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toContain(message);
    },
  );
}
