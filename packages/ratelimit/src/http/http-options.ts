import { parseOptions } from '@redkit/core';
import type { LimitResult, RateLimiter } from '@redkit/ratelimit';
import { z } from 'zod';
import { type HeaderOptions, headerDrafts } from './headers.js';
import { byIp, type KeyGenerator } from './key-generators.js';
import type { ProblemDetails } from './problem.js';

/** What {@link RateLimitHttpOptions.onLimited} gets to build a denial. */
export interface LimitedDetails {
  readonly result: LimitResult;
  /** The subject the request was limited under. */
  readonly key: string;
  /** Seconds until a retry may pass, as sent in `Retry-After`. */
  readonly retryAfter: number;
  /** The default body, to send as is or extend. */
  readonly problem: ProblemDetails;
}

/** The body of a denied request, built by {@link RateLimitHttpOptions.onLimited}. */
export interface LimitedBody {
  /** A string is sent as is; anything else as JSON. */
  readonly body: unknown;
  /**
   * @default "text/plain; charset=utf-8" for a string body, else "application/json; charset=utf-8"
   */
  readonly contentType?: string;
}

/** Units a request costs: a number, or computed from the request. */
export type CostOption<Req> = number | ((request: Req) => number | Promise<number>);

/** Per-route overrides (Fastify route `config.rateLimit`, Nest `@RateLimit()`). */
export interface RouteRateLimitOptions<Req> {
  /** Units a request to this route costs. @default the middleware's `cost` */
  readonly cost?: CostOption<Req>;
  /** Subject of requests to this route. @default the middleware's `key` */
  readonly key?: KeyGenerator<Req>;
}

/**
 * Options shared by the Express middleware, the Fastify plugin and the Nest
 * module. `Req` is the framework's request type.
 */
export interface RateLimitHttpOptions<Req> {
  /** The limiter that decides; its policies also fill `RateLimit-Policy`. */
  readonly limiter: RateLimiter;
  /** Subject a request is limited under. @default byIp() */
  readonly key?: KeyGenerator<Req>;
  /** Requests for which this returns true are not limited, and Redis is not asked. @default undefined */
  readonly skip?: (request: Req) => boolean | Promise<boolean>;
  /** Keys (as `key` returns them) that are never limited; Redis is not asked for them. @default [] */
  readonly allowList?: readonly string[];
  /** Units a request costs. @default 1 */
  readonly cost?: CostOption<Req>;
  /** Which headers to send. @default { standard: true, legacy: false } */
  readonly headers?: HeaderOptions;
  /**
   * Builds the body of a denied request.
   * @default RFC 9457 problem details as `application/problem+json` (see {@link problemDetails})
   */
  readonly onLimited?: (request: Req, details: LimitedDetails) => LimitedBody | Promise<LimitedBody>;
  /** Status of a denied request. @default 429 */
  readonly statusCode?: number;
}

/** {@link RateLimitHttpOptions} after validation, with defaults applied. */
export interface ResolvedHttpOptions<Req> {
  readonly limiter: RateLimiter;
  readonly key: KeyGenerator<Req>;
  readonly skip: ((request: Req) => boolean | Promise<boolean>) | undefined;
  readonly allowList: ReadonlySet<string>;
  readonly cost: CostOption<Req>;
  readonly headers: Required<HeaderOptions>;
  readonly onLimited: ((request: Req, details: LimitedDetails) => LimitedBody | Promise<LimitedBody>) | undefined;
  readonly statusCode: number;
}

/** {@link RouteRateLimitOptions} after validation. */
export interface ResolvedRouteOptions<Req> {
  readonly cost: CostOption<Req> | undefined;
  readonly key: KeyGenerator<Req> | undefined;
}

type AnyFunction = (...args: never[]) => unknown;

/** An option that must be a function (of the request, usually). */
export const functionSchema = z.custom<AnyFunction>((value) => typeof value === 'function', {
  message: 'must be a function of the request',
});

// Duck-typed rather than `instanceof`: the ESM and CJS builds each have their
// own RateLimiter class, and either may be passed to either build.
const limiterSchema = z.custom<RateLimiter>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RateLimiter).limit === 'function' &&
    Array.isArray((value as RateLimiter).policies),
  { message: 'must be a RateLimiter from @redkit/ratelimit' },
);

const costSchema = z.custom<CostOption<unknown>>(
  (value) => typeof value === 'function' || (Number.isSafeInteger(value) && (value as number) > 0),
  { message: 'must be a positive integer or a function of the request' },
);

/**
 * Zod schema of {@link RateLimitHttpOptions}; framework entries extend it
 * with their own fields and make it strict.
 */
export const httpOptionsShape = z.object({
  limiter: limiterSchema,
  key: functionSchema.optional(),
  skip: functionSchema.optional(),
  allowList: z.array(z.string().min(1, 'must not be empty')).default([]),
  cost: costSchema.default(1),
  headers: z
    .object({
      standard: z.union([z.boolean(), z.enum(headerDrafts)]).default(true),
      legacy: z.boolean().default(false),
    })
    .strict()
    .default({ standard: true, legacy: false }),
  onLimited: functionSchema.optional(),
  statusCode: z.number().int().min(400).max(599).default(429),
});

/** Zod schema of {@link RouteRateLimitOptions}. */
export const routeOptionsSchema = z.object({ cost: costSchema.optional(), key: functionSchema.optional() }).strict();

/**
 * Validates middleware options (throwing `InvalidOptionsError` that names the
 * bad field) and applies the defaults. `schema` is {@link httpOptionsShape},
 * possibly extended with a framework's own fields (`Extra`), made strict.
 *
 * @example
 * ```ts
 * const options = parseHttpOptions(httpOptionsShape.strict(), input, 'rateLimit()')
 * ```
 */
export function parseHttpOptions<Req, Extra extends object = Record<never, never>>(
  schema: z.ZodType<z.output<typeof httpOptionsShape> & Extra>,
  input: unknown,
  context: string,
): ResolvedHttpOptions<Req> & Extra {
  const parsed = parseOptions(schema, input, context);
  return {
    ...parsed,
    key: parsed.key ?? byIp(),
    allowList: new Set(parsed.allowList),
  } as ResolvedHttpOptions<Req> & Extra;
}

/**
 * Validates per-route overrides.
 *
 * @example
 * ```ts
 * const route = parseRouteOptions({ cost: 5 }, '@RateLimit()')
 * ```
 */
export function parseRouteOptions<Req>(input: unknown, context: string): ResolvedRouteOptions<Req> {
  const parsed = parseOptions(routeOptionsSchema, input, context);
  return { cost: parsed.cost as CostOption<Req> | undefined, key: parsed.key as KeyGenerator<Req> | undefined };
}
