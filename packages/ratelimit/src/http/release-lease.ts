import type { Lease } from '@redkit/ratelimit';

/** The part of Node's `ServerResponse` that tells when a response is over. */
export interface EndingResponse {
  once(event: 'finish' | 'close', listener: () => void): unknown;
  readonly writableFinished?: boolean;
  readonly destroyed?: boolean;
}

/**
 * Gives a concurrency lease back once, when the response has been sent or
 * the client went away, whichever comes first (or at once if that already
 * happened while the limiter was asked).
 *
 * A failed release is dropped: the lease expires after the policy's
 * `leaseTtl` anyway, and a response hook has nobody to report to.
 *
 * @example
 * ```ts
 * if (result.lease) releaseWhenDone(res, result.lease)
 * ```
 */
export function releaseWhenDone(response: EndingResponse, lease: Lease): void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    lease.release().catch(() => {});
  };
  if (response.writableFinished || response.destroyed) {
    release();
    return;
  }
  response.once('finish', release);
  response.once('close', release);
}
