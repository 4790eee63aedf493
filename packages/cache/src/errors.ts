import { InvalidOptionsError, RedisUnavailableError, RedkitError } from '@redkit/core';

/** The loader ran past its hard timeout; its signal was aborted. */
export class LoaderTimeoutError extends RedkitError {
  readonly key: string;
  readonly timeoutMs: number;

  constructor(key: string, timeoutMs: number) {
    super('E_CACHE_LOADER_TIMEOUT', `loading ${JSON.stringify(key)} took longer than ${timeoutMs} ms`);
    this.key = key;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `writeThrough` saved to the source but could not update the cache; the
 * cached value (if any) was not replaced and expires with its ttl. `cause`
 * holds the Redis error.
 */
export class WriteThroughError extends RedkitError {
  readonly key: string;

  constructor(key: string, options: { cause: unknown }) {
    super('E_CACHE_WRITE_THROUGH', `saved ${JSON.stringify(key)} but could not update the cache`, options);
    this.key = key;
  }
}

/**
 * The cache's serializer cannot turn a value into text: with the default JSON
 * serializer a BigInt, a circular object (JSON drops what it cannot express
 * without failing: a Map or Set becomes `{}`, a Date a string). Thrown by
 * `set` before anything is written (`writeThrough` saves, then throws
 * `WriteThroughError` with this as its cause);
 * `getOrSet` returns such a value without storing it and emits
 * `unserializable`. `cause` holds the serializer's error.
 *
 * @example
 * ```ts
 * // Keeps Date, Map, Set and BigInt:
 * const cache = new Cache({ redis, namespace: 'app', serializer: superjsonSerializer(superjson) })
 * ```
 */
export class UnserializableValueError extends RedkitError {
  readonly key: string;

  constructor(key: string, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      'E_CACHE_UNSERIALIZABLE',
      `the value of ${JSON.stringify(key)} cannot be serialized (${reason}); ` +
        'a serializer such as superjsonSerializer keeps BigInt, Date, Map and Set',
      options,
    );
    this.key = key;
  }
}

/** Errors thrown by @redkit/cache, for `instanceof` checks. */
export const errors = {
  LoaderTimeoutError,
  WriteThroughError,
  UnserializableValueError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
