import { RedisUnavailableError } from './errors.js';

/**
 * Rejects with {@link RedisUnavailableError} when `promise` has not settled
 * within `timeoutMs`. The work behind the promise is not cancelled; callers
 * must treat its outcome as unknown and not repeat non-idempotent work.
 */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new RedisUnavailableError(`${what} did not complete within ${timeoutMs}ms`, { timedOut: true }));
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
