import { LoaderTimeoutError } from './errors.js';

/** What a loader gets: the key, a signal aborted at the hard timeout, and the stale value if there is one. */
export interface LoaderContext<Value> {
  readonly key: string;
  readonly signal: AbortSignal;
  /** The stale value being refreshed (within grace), if any. */
  readonly stale: Value | undefined;
}

/** Loads a value from the source of truth; `undefined` means "not found" (cached for `negativeTtl`). */
export type Loader<Value> = (context: LoaderContext<Value>) => Value | undefined | Promise<Value | undefined>;

/** Loads several keys at once; returns a Map by key (absent keys are "not found"). */
export type ManyLoader<Value> = (
  keys: readonly string[],
  context: { readonly signal: AbortSignal },
) => Map<string, Value> | Promise<Map<string, Value>>;

/** Rejection of the soft timeout (internal: the caller serves the stale value instead). */
export const softTimeoutReached = Symbol('soft timeout');

/** How long one loader call may take. */
export interface LoaderTimeouts<T> {
  /** What the timeout errors name: the key, or the keys of a batch. */
  readonly key: string;
  /** The load is aborted (its signal) and rejected with `LoaderTimeoutError` after this many ms. */
  readonly hardTimeout: number;
  /**
   * With a stale value to serve: the call rejects with {@link softTimeoutReached}
   * after this many ms while the load goes on; `onLate` gets its value if it
   * still succeeds before the hard timeout.
   */
  readonly softTimeout?: number | undefined;
  readonly onLate?: (value: T) => void;
}

/**
 * Runs a loader under its timeouts: the one implementation for single and
 * batch loads. The loader is called in a later microtask, so a loader that
 * throws synchronously rejects like one that returns a rejected promise.
 */
export function runLoader<T>(load: (signal: AbortSignal) => T | Promise<T>, timeouts: LoaderTimeouts<T>): Promise<T> {
  const controller = new AbortController();
  const { hardTimeout, softTimeout, onLate } = timeouts;
  return new Promise((resolve, reject) => {
    let settled = false;
    let softFired = false;
    const hard = setTimeout(() => {
      if (settled && !softFired) return;
      const error = new LoaderTimeoutError(timeouts.key, hardTimeout);
      controller.abort(error);
      if (!settled) {
        settled = true;
        reject(error);
      }
    }, hardTimeout);
    const soft =
      softTimeout !== undefined && softTimeout < hardTimeout
        ? setTimeout(() => {
            if (settled) return;
            settled = true;
            softFired = true;
            reject(softTimeoutReached);
          }, softTimeout)
        : undefined;
    Promise.resolve()
      .then(() => load(controller.signal))
      .then(
        (value) => {
          clearTimeout(hard);
          if (soft) clearTimeout(soft);
          if (!settled) {
            settled = true;
            resolve(value);
          } else if (softFired && !controller.signal.aborted) {
            onLate?.(value);
          }
        },
        (error: unknown) => {
          clearTimeout(hard);
          if (soft) clearTimeout(soft);
          if (!settled) {
            settled = true;
            reject(error);
          }
        },
      );
  });
}
