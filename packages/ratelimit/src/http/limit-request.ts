import type { LimitResult } from '@redkit/ratelimit';
import { type RateLimitHeaders, rateLimitHeaders, retryAfterSeconds } from './headers.js';
import type { ResolvedHttpOptions, ResolvedRouteOptions } from './http-options.js';
import { problemContentType, problemDetails } from './problem.js';

/** The response to send instead of running the route. */
export interface LimitedResponse {
  readonly status: number;
  readonly contentType: string;
  /** The body as built (an object for JSON bodies), for frameworks that serialise it themselves. */
  readonly body: unknown;
  /** The body serialised. */
  readonly payload: string;
}

/** What the middleware does with a request. */
export type LimitOutcome =
  /** Skipped or allow-listed: no headers, Redis not asked. */
  | { readonly kind: 'skipped' }
  | {
      readonly kind: 'checked';
      readonly key: string;
      /** Units the request cost (what a refund gives back). */
      readonly cost: number;
      readonly result: LimitResult;
      /** Headers for the response, admitted or not. */
      readonly headers: RateLimitHeaders;
      /** Set when the request is denied. */
      readonly limited: LimitedResponse | undefined;
    };

/** Checks one request; see {@link createRequestLimiter}. */
export type RequestLimiter<Req> = (request: Req, route?: ResolvedRouteOptions<Req>) => Promise<LimitOutcome>;

/**
 * The framework-independent part of every middleware: skip and allow-list
 * (before any call to Redis), key, cost, the limiter call, the headers, and
 * the denial body. Errors (a key function that throws, a bad cost, Redis
 * misconfigured) reject; a Redis outage is whatever the limiter's failure
 * mode decides, a result like any other.
 *
 * @example
 * ```ts
 * const check = createRequestLimiter(parseHttpOptions(httpOptionsShape.strict(), { limiter }, 'mine'))
 * const outcome = await check(req)
 * ```
 */
export function createRequestLimiter<Req>(options: ResolvedHttpOptions<Req>): RequestLimiter<Req> {
  const { limiter } = options;
  return async (request, route) => {
    if (options.skip && (await options.skip(request))) return { kind: 'skipped' };
    const key = await (route?.key ?? options.key)(request);
    if (options.allowList.has(key)) return { kind: 'skipped' };
    const costOption = route?.cost ?? options.cost;
    const cost = typeof costOption === 'function' ? await costOption(request) : costOption;
    const result = await limiter.limit(key, { cost });
    const headers = rateLimitHeaders(result, limiter.policies, options.headers, key);
    const limited = result.allowed ? undefined : await limitedResponse(options, request, key, result);
    return { kind: 'checked', key, cost, result, headers, limited };
  };
}

async function limitedResponse<Req>(
  options: ResolvedHttpOptions<Req>,
  request: Req,
  key: string,
  result: LimitResult,
): Promise<LimitedResponse> {
  const status = options.statusCode;
  const problem = problemDetails(result, status);
  if (!options.onLimited) {
    return { status, contentType: problemContentType, body: problem, payload: JSON.stringify(problem) };
  }
  const { body, contentType } = await options.onLimited(request, {
    result,
    key,
    retryAfter: retryAfterSeconds(result),
    problem,
  });
  const text = typeof body === 'string';
  return {
    status,
    contentType: contentType ?? (text ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8'),
    body,
    payload: text ? body : JSON.stringify(body),
  };
}
