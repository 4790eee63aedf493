/**
 * Express 4 and 5 middleware: `@redkit/ratelimit/express`.
 *
 * Typed with small structural types rather than `@types/express`, so it
 * needs neither, and any `Request` type (yours, with `user`) fits.
 *
 * @module
 */

import { InvalidOptionsError } from '@redkit/core';
import type { LimitResult } from '@redkit/ratelimit';
import { z } from 'zod';
import { type HeaderDraft, type HeaderOptions, headerDrafts, retryAfterSeconds } from './http/headers.js';
import {
  functionSchema,
  httpOptionsShape,
  type LimitedDetails,
  parseHttpOptions,
  type RateLimitHttpOptions,
} from './http/http-options.js';
import { type RequestWithAddress, readsClientIp } from './http/key-generators.js';
import { createRequestLimiter } from './http/limit-request.js';
import { problemDetails } from './http/problem.js';
import { refundWhenDone, statusBelow400 } from './http/refund-when-done.js';
import { type EndingResponse, releaseWhenDone } from './http/release-lease.js';

/** The part of Express's `Response` the middleware uses (Node's `ServerResponse`, plus Express's `send`). */
export interface ExpressResponseLike extends EndingResponse {
  statusCode: number;
  readonly writableEnded?: boolean;
  setHeader(name: string, value: string | number): unknown;
  end(chunk: string): unknown;
  once(event: 'finish' | 'close' | 'error', listener: () => void): unknown;
  /** Express's `res.send`: used for `message` bodies, so they go out as express-rate-limit sends them. */
  send?(body: unknown): unknown;
}

/** Express's `next`. */
export type ExpressNext = (error?: unknown) => void;

/** An Express middleware: `(req, res, next)`. */
export type ExpressMiddleware<Req> = (request: Req, response: ExpressResponseLike, next: ExpressNext) => void;

/**
 * What the middleware puts on `req.rateLimit` of every request it checked
 * (as express-rate-limit does), describing the binding policy.
 */
export interface RateLimitInfo {
  /** The binding policy's quota. */
  readonly limit: number;
  /** Units of it used, this request included when it was admitted. */
  readonly used: number;
  /** Units left. */
  readonly remaining: number;
  /** When the binding policy is back to its full quota; undefined when Redis failed open and the state is unknown. */
  readonly resetTime: Date | undefined;
  /** The key the request was limited under. */
  readonly key: string;
}

/** A request the middleware has checked: `req.rateLimit` is set. */
export interface RateLimitedRequest {
  rateLimit?: RateLimitInfo;
}

/** A denial body, or a function of the request and response that gives one. */
export type MessageOption<Req> =
  | string
  | object
  | ((request: Req, response: ExpressResponseLike) => string | object | Promise<string | object>);

/**
 * Options of {@link rateLimit}: the shared {@link RateLimitHttpOptions}, plus
 * the express-rate-limit options that fit redkit, under their names there.
 */
export interface ExpressRateLimitOptions<Req> extends RateLimitHttpOptions<Req> {
  /**
   * express-rate-limit's name for `headers.standard`, with its meaning:
   * `true` is `'draft-6'`. Give either this and `legacyHeaders`, or `headers`.
   * @default the `headers` option (draft-8)
   */
  readonly standardHeaders?: boolean | HeaderDraft;
  /**
   * express-rate-limit's name for `headers.legacy` (`X-RateLimit-*`).
   * @default false (express-rate-limit's default is true)
   */
  readonly legacyHeaders?: boolean;
  /**
   * Body of a denial, sent with Express's `res.send` (a string as HTML, an
   * object as JSON), or a function of the request and response returning it.
   * One of `message`, `handler` and `onLimited` at most.
   * @default RFC 9457 problem details
   */
  readonly message?: MessageOption<Req>;
  /**
   * Sends the denial itself: called with the status code and the rate-limit
   * headers already set. A rejection goes to `next(error)`.
   * One of `message`, `handler` and `onLimited` at most.
   * @default undefined
   */
  readonly handler?: (
    request: Req,
    response: ExpressResponseLike,
    next: ExpressNext,
    details: LimitedDetails,
  ) => unknown;
  /** Give back admitted requests that succeed (`requestWasSuccessful`) once their response has finished. @default false */
  readonly skipSuccessfulRequests?: boolean;
  /** Give back admitted requests that fail, error, or whose client goes away before the response. @default false */
  readonly skipFailedRequests?: boolean;
  /** What success means for the two skip options. @default status below 400 */
  readonly requestWasSuccessful?: (request: Req, response: ExpressResponseLike) => boolean | Promise<boolean>;
}

const messageSchema = z.custom<MessageOption<unknown>>(
  (value) => typeof value === 'string' || typeof value === 'function' || (typeof value === 'object' && value !== null),
  { message: 'must be a string, an object, or a function of the request and response' },
);

const schema = httpOptionsShape
  .extend({
    standardHeaders: z.union([z.boolean(), z.enum(headerDrafts)]).optional(),
    legacyHeaders: z.boolean().optional(),
    message: messageSchema.optional(),
    handler: functionSchema.optional(),
    skipSuccessfulRequests: z.boolean().default(false),
    skipFailedRequests: z.boolean().default(false),
    requestWasSuccessful: functionSchema.optional(),
  })
  .strict();

/** Checks the options that exclude each other (zod cannot see which of them had defaults). */
function checkExclusive(options: unknown): void {
  if (typeof options !== 'object' || options === null) return;
  const given = (name: string) => (options as Record<string, unknown>)[name] !== undefined;
  const issues = [];
  if (given('headers') && (given('standardHeaders') || given('legacyHeaders'))) {
    const name = given('standardHeaders') ? 'standardHeaders' : 'legacyHeaders';
    issues.push({ path: name, message: 'give either headers or standardHeaders/legacyHeaders, not both' });
  }
  const bodies = ['onLimited', 'message', 'handler'].filter(given);
  if (bodies.length > 1) {
    issues.push({
      path: bodies[1] as string,
      message: `give only one of onLimited, message and handler (${bodies.join(', ')} given)`,
    });
  }
  if (issues.length > 0) throw new InvalidOptionsError(issues, { context: 'rateLimit()' });
}

/** The `req.rateLimit` of a checked request. */
function rateLimitInfo(result: LimitResult, key: string): RateLimitInfo {
  return {
    limit: result.limit,
    used: result.limit - result.remaining,
    remaining: result.remaining,
    resetTime: result.decidedBy === 'fail-open' ? undefined : new Date(result.resetAt),
    key,
  };
}

const forwardedWarning =
  'a request arrived with X-Forwarded-For but the Express "trust proxy" setting is false (the default), so every ' +
  "client behind the proxy is limited as the proxy's address. Set app.set('trust proxy', <hops>) to the number of " +
  'proxies in front of the app; see https://expressjs.com/en/guide/behind-proxies.html';

/**
 * Rate-limits the requests that reach it, for Express 4 and 5. Admitted
 * requests get the rate-limit headers (IETF draft-8 by default; see
 * `standardHeaders`), `req.rateLimit`, and go on; denied ones get
 * `statusCode` (429) with `Retry-After` and an `application/problem+json`
 * body (or `message`, `handler`, `onLimited`). A concurrency lease is
 * released, and with `skipSuccessfulRequests` / `skipFailedRequests` a
 * request is given back, when the response finishes or the client goes
 * away. Errors (a throwing `key`, Redis misconfigured) go to `next(err)`; a
 * Redis outage is decided by the limiter's failure mode like any other check.
 *
 * When a request carries `X-Forwarded-For` while Express's `trust proxy` is
 * off and the key reads the client IP (`byIp`, `byUser`), the middleware
 * warns once (`process.emitWarning`, code `REDKIT_UNEXPECTED_X_FORWARDED_FOR`):
 * every client would then share the proxy's budget.
 *
 * Throws `InvalidOptionsError` naming the field when an option is wrong.
 *
 * @example
 * ```ts
 * import { byIp, rateLimit } from '@redkit/ratelimit/express'
 *
 * app.set('trust proxy', 1) // behind one reverse proxy
 * app.use('/api', rateLimit({ limiter, key: byIp() }))
 * app.post('/login', rateLimit({ limiter: loginLimiter, skipSuccessfulRequests: true }), login)
 * ```
 */
export function rateLimit<Req extends object = RequestWithAddress>(
  options: ExpressRateLimitOptions<Req>,
): ExpressMiddleware<Req> {
  // The schema checks that the callbacks are functions; their parameter types are the caller's.
  type Extras = Required<Pick<ExpressRateLimitOptions<Req>, 'skipSuccessfulRequests' | 'skipFailedRequests'>> &
    Pick<
      ExpressRateLimitOptions<Req>,
      'standardHeaders' | 'legacyHeaders' | 'message' | 'handler' | 'requestWasSuccessful'
    >;
  const parsed = parseHttpOptions<Req, Extras>(
    schema as unknown as z.ZodType<z.output<typeof httpOptionsShape> & Extras>,
    options,
    'rateLimit()',
  );
  checkExclusive(options);
  const { standardHeaders, legacyHeaders, message, handler, skipSuccessfulRequests, skipFailedRequests } = parsed;
  const headers: Required<HeaderOptions> = {
    // express-rate-limit's `true` is draft-6; keep its meaning under its name.
    standard:
      standardHeaders === undefined ? parsed.headers.standard : standardHeaders === true ? 'draft-6' : standardHeaders,
    legacy: legacyHeaders ?? parsed.headers.legacy,
  };
  const check = createRequestLimiter({ ...parsed, headers });
  const { limiter, statusCode } = parsed;
  const refunds =
    skipSuccessfulRequests || skipFailedRequests
      ? {
          skipSuccessfulRequests,
          skipFailedRequests,
          requestWasSuccessful: parsed.requestWasSuccessful ?? statusBelow400,
        }
      : undefined;
  let proxyChecked = !readsClientIp(parsed.key);

  return (request, response, next) => {
    // Express 4 ignores a returned promise, so every failure is handed to
    // next() here: nothing may reject unobserved, and next runs only once.
    let passed = false;
    const pass = (error?: unknown) => {
      if (passed) return;
      passed = true;
      next(error);
    };
    if (!proxyChecked) proxyChecked = warnOnUntrustedForward(request);
    check(request)
      .then(async (outcome) => {
        if (outcome.kind === 'skipped') return pass();
        for (const [name, value] of Object.entries(outcome.headers)) response.setHeader(name, value);
        const { key, cost, limited, result } = outcome;
        (request as RateLimitedRequest).rateLimit = rateLimitInfo(result, key);
        if (result.lease) releaseWhenDone(response, result.lease);
        // Only what this request took from Redis is given back (a denial took nothing).
        if (refunds && result.wouldAllow && result.decidedBy === 'redis') {
          refundWhenDone(request, response, refunds, () => limiter.refund(key, { cost }));
        }
        if (!limited) return pass();
        response.statusCode = limited.status;
        if (handler) {
          const details = {
            result,
            key,
            retryAfter: retryAfterSeconds(result),
            problem: problemDetails(result, statusCode),
          };
          await handler(request, response, pass, details);
        } else if (message !== undefined) {
          const body = typeof message === 'function' ? await message(request, response) : message;
          sendMessage(response, body);
        } else {
          response.setHeader('Content-Type', limited.contentType);
          response.setHeader('Content-Length', Buffer.byteLength(limited.payload));
          response.end(limited.payload);
        }
      })
      .catch(pass);
  };
}

/** Sends a `message` body as express-rate-limit does (Express's `res.send`), or as text / JSON without it. */
function sendMessage(response: ExpressResponseLike, body: unknown): void {
  if (response.writableEnded) return;
  if (typeof response.send === 'function') {
    response.send(body);
    return;
  }
  const text = typeof body === 'string';
  const payload = text ? body : JSON.stringify(body);
  response.setHeader('Content-Type', text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(payload));
  response.end(payload);
}

/**
 * Warns when a request came through a proxy Express does not trust. Returns
 * true once there is nothing more to check (warned, or trust proxy is set).
 */
function warnOnUntrustedForward(request: object): boolean {
  const { headers, app } = request as {
    headers?: Record<string, unknown>;
    app?: { get?(setting: string): unknown };
  };
  if (typeof app?.get !== 'function') return true;
  if (app.get('trust proxy') !== false) return true;
  if (!headers?.['x-forwarded-for']) return false;
  process.emitWarning(forwardedWarning, { code: 'REDKIT_UNEXPECTED_X_FORWARDED_FOR' });
  return true;
}

export { type ClientRateLimitInfo, RedkitStore, type RedkitStoreOptions } from './express-store.js';
// The HTTP helpers every middleware entry point offers (see http/public.ts).
export * from './http/public.js';
