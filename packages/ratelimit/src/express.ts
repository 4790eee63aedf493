/**
 * Express 4 and 5 middleware: `@redkit/ratelimit/express`.
 *
 * Typed with small structural types rather than `@types/express`, so it
 * needs neither, and any `Request` type (yours, with `user`) fits.
 *
 * @module
 */

import { httpOptionsShape, parseHttpOptions, type RateLimitHttpOptions } from './http/http-options.js';
import type { RequestWithAddress } from './http/key-generators.js';
import { createRequestLimiter } from './http/limit-request.js';
import { type EndingResponse, releaseWhenDone } from './http/release-lease.js';

/** The part of Express's `Response` the middleware uses (Node's `ServerResponse`). */
export interface ExpressResponseLike extends EndingResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(chunk: string): unknown;
}

/** Express's `next`. */
export type ExpressNext = (error?: unknown) => void;

/** An Express middleware: `(req, res, next)`. */
export type ExpressMiddleware<Req> = (request: Req, response: ExpressResponseLike, next: ExpressNext) => void;

/** Options of {@link rateLimit}; see {@link RateLimitHttpOptions}. */
export type ExpressRateLimitOptions<Req> = RateLimitHttpOptions<Req>;

const schema = httpOptionsShape.strict();

/**
 * Rate-limits the requests that reach it, for Express 4 and 5. Admitted
 * requests get the `RateLimit-Policy` / `RateLimit` headers and go on; denied
 * ones get `statusCode` (429) with `Retry-After` and an
 * `application/problem+json` body. A concurrency lease is released when the
 * response finishes or the client goes away. Errors (a throwing `key`, Redis
 * misconfigured) go to `next(err)`; a Redis outage is decided by the
 * limiter's failure mode like any other check.
 *
 * Throws `InvalidOptionsError` naming the field when an option is wrong.
 *
 * @example
 * ```ts
 * import { byIp, rateLimit } from '@redkit/ratelimit/express'
 *
 * app.set('trust proxy', 1) // behind one reverse proxy
 * app.use('/api', rateLimit({ limiter, key: byIp() }))
 * app.post('/login', rateLimit({ limiter: loginLimiter, cost: 1 }), login)
 * ```
 */
export function rateLimit<Req extends object = RequestWithAddress>(
  options: ExpressRateLimitOptions<Req>,
): ExpressMiddleware<Req> {
  const check = createRequestLimiter(parseHttpOptions<Req>(schema, options, 'rateLimit()'));
  return (request, response, next) => {
    // Express 4 ignores a returned promise, so every failure is handed to
    // next() here: nothing may reject unobserved, and next runs only once.
    let passed = false;
    const pass = (error?: unknown) => {
      if (passed) return;
      passed = true;
      next(error);
    };
    check(request)
      .then((outcome) => {
        if (outcome.kind === 'skipped') return pass();
        for (const [name, value] of Object.entries(outcome.headers)) response.setHeader(name, value);
        const { limited, result } = outcome;
        if (result.lease) releaseWhenDone(response, result.lease);
        if (!limited) return pass();
        response.statusCode = limited.status;
        response.setHeader('Content-Type', limited.contentType);
        response.setHeader('Content-Length', Buffer.byteLength(limited.payload));
        response.end(limited.payload);
      })
      .catch(pass);
  };
}

export { type ClientRateLimitInfo, RedkitStore, type RedkitStoreOptions } from './express-store.js';
// The HTTP helpers every middleware entry point offers (see http/public.ts).
export * from './http/public.js';
