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

/** Errors thrown by @redkit/cache, for `instanceof` checks. */
export const errors = {
  LoaderTimeoutError,
  WriteThroughError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
