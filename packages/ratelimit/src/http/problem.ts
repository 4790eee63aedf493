import { STATUS_CODES } from 'node:http';
import type { LimitResult } from '@redkit/ratelimit';
import { retryAfterSeconds } from './headers.js';

/**
 * Media type of the default denial body (RFC 9457). The charset is spelled
 * out because Express and Fastify add it to JSON bodies anyway, so every
 * framework sends the same header.
 *
 * @example
 * ```ts
 * onLimited: (req, { problem }) => ({ body: { ...problem, instance: req.url }, contentType: problemContentType })
 * ```
 */
export const problemContentType = 'application/problem+json; charset=utf-8';

/** The default body of a denied request: RFC 9457 problem details. */
export interface ProblemDetails {
  /** `about:blank`: the status code says it all. */
  readonly type: 'about:blank';
  /** The status code's reason phrase, e.g. `Too Many Requests`. */
  readonly title: string;
  readonly status: number;
  /** A sentence for humans. */
  readonly detail: string;
  /** Seconds to wait before retrying, as in `Retry-After` (extension member). */
  readonly retryAfter: number;
}

/**
 * Builds the default denial body.
 *
 * @param status the response status. @default 429
 * @example
 * ```ts
 * problemDetails(result)
 * // { type: 'about:blank', title: 'Too Many Requests', status: 429,
 * //   detail: 'Rate limit exceeded; retry in 30 seconds.', retryAfter: 30 }
 * ```
 */
export function problemDetails(result: LimitResult, status = 429): ProblemDetails {
  const retryAfter = retryAfterSeconds(result);
  return {
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Too Many Requests',
    status,
    detail: `Rate limit exceeded; retry in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
    retryAfter,
  };
}
