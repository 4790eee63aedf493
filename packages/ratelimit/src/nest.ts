/**
 * NestJS 11/12 integration: `@redkit/ratelimit/nest`, for both the Express
 * and the Fastify platform.
 *
 * Every injected dependency names its token with `@Inject()`: esbuild (tsup,
 * tsx) does not emit decorator type metadata, so Nest could not infer it.
 *
 * @module
 */
import {
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
  HttpException,
  Inject,
  Injectable,
  type InjectionToken,
  Module,
  type ModuleMetadata,
  type OptionalFactoryDependency,
  type Provider,
  SetMetadata,
} from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { InvalidOptionsError, parseOptions } from '@redkit/core';
import type { LimitResult, RateLimiter } from '@redkit/ratelimit';
import { z } from 'zod';
import {
  httpOptionsShape,
  parseHttpOptions,
  parseRouteOptions,
  type RateLimitHttpOptions,
  type ResolvedHttpOptions,
  type ResolvedRouteOptions,
  type RouteRateLimitOptions,
} from './http/http-options.js';
import type { RequestWithAddress } from './http/key-generators.js';
import { createRequestLimiter, type LimitedResponse, type RequestLimiter } from './http/limit-request.js';
import { type EndingResponse, releaseWhenDone } from './http/release-lease.js';

/**
 * Injection token of the module's resolved options.
 *
 * @example
 * ```ts
 * constructor(@Inject(RATE_LIMIT_OPTIONS) options: { limiter: RateLimiter }) {}
 * ```
 */
export const RATE_LIMIT_OPTIONS = Symbol.for('@redkit/ratelimit:nest-options');

const routeMetadata = 'redkit:ratelimit:route';
const skipMetadata = 'redkit:ratelimit:skip';
/** Marks a request already checked, so a guard bound twice counts it once. */
const checked = Symbol.for('@redkit/ratelimit:checked');

/** Options of {@link RateLimitModule.forRoot}. `Req` is your platform's request type. */
export interface RateLimitModuleOptions<Req = RequestWithAddress> extends RateLimitHttpOptions<Req> {
  /**
   * Further limiters by name, for routes that need other limits than
   * `limiter`'s: `@RateLimit({ limiter: 'login' })` on a handler or a
   * controller picks one (as `@Throttle({ login: { limit, ttl } })` would).
   * Each keeps its own policies, and its own keys when given its own namespace.
   * @default {}
   */
  readonly limiters?: Readonly<Record<string, RateLimiter>>;
  /**
   * Register {@link RateLimitGuard} as a global guard (`APP_GUARD`). Turn off
   * to bind it yourself with `@UseGuards(RateLimitGuard)`.
   * @default true
   */
  readonly globalGuard?: boolean;
}

/** Options of {@link RateLimitModule.forRootAsync}. */
export interface RateLimitModuleAsyncOptions<Req = RequestWithAddress> {
  /** Modules exporting what `useFactory` injects. @default [] */
  readonly imports?: ModuleMetadata['imports'];
  /** Tokens passed to `useFactory`. @default [] */
  readonly inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Builds the options, e.g. from a Redis client provider. */
  readonly useFactory: (
    ...args: never[]
  ) => NamedLimiters<RateLimitHttpOptions<Req>> | Promise<NamedLimiters<RateLimitHttpOptions<Req>>>;
  /** See {@link RateLimitModuleOptions.globalGuard}. @default true */
  readonly globalGuard?: boolean;
}

/** Options with the named limiters of {@link RateLimitModuleOptions.limiters}. */
export type NamedLimiters<Options> = Options & { readonly limiters?: Readonly<Record<string, RateLimiter>> };

type NestOptions = ResolvedHttpOptions<unknown> & { limiters: Readonly<Record<string, RateLimiter>> };

/** Names of limiters, in `limiters` and in `@RateLimit({ limiter })`. */
const limiterNamePattern = /^[A-Za-z0-9_-]{1,64}$/;
const limitersSchema = z
  .record(
    z.string().regex(limiterNamePattern, 'names must be 1–64 letters, digits, "_" or "-"'),
    httpOptionsShape.shape.limiter,
  )
  .default({});
const moduleSchema = httpOptionsShape
  .extend({ globalGuard: z.boolean().default(true), limiters: limitersSchema })
  .strict();
const factorySchema = httpOptionsShape.extend({ limiters: limitersSchema }).strict();

/** What `@RateLimit()` stores on a handler or a controller; a handler's fields override its controller's. */
interface RouteMetadata {
  readonly route: ResolvedRouteOptions<unknown>;
  /** Name of a limiter of `limiters`. */
  readonly limiter: string | undefined;
}

/** The handler's settings over the controller's, field by field. */
function mergeRoute(
  handler: RouteMetadata | undefined,
  controller: RouteMetadata | undefined,
): RouteMetadata | undefined {
  if (!handler || !controller) return handler ?? controller;
  return {
    route: {
      cost: handler.route.cost ?? controller.route.cost,
      key: handler.route.key ?? controller.route.key,
    },
    limiter: handler.limiter ?? controller.limiter,
  };
}
const asyncSchema = z
  .object({
    imports: z.array(z.unknown()).optional(),
    inject: z.array(z.unknown()).optional(),
    useFactory: z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', {
      message: 'must be a function returning the options',
    }),
    globalGuard: z.boolean().default(true),
  })
  .strict();

/**
 * Thrown by {@link RateLimitGuard} for a denied request. Nest's exception
 * layer sends it: status `statusCode` (429) and the body of `onLimited` (RFC
 * 9457 problem details by default), with the rate-limit headers already set
 * on the response and its `Content-Type` (`application/problem+json`) applied
 * when the body is sent (on Express, by that response's next `res.json()`).
 * Catch it in an exception filter to send something else.
 *
 * @example
 * ```ts
 * @Catch(RateLimitExceededException)
 * class LimitedFilter implements ExceptionFilter {
 *   catch(error: RateLimitExceededException, host: ArgumentsHost) { … error.result.retryAfterMs … }
 * }
 * ```
 */
export class RateLimitExceededException extends HttpException {
  /** The limiter's answer. */
  readonly result: LimitResult;
  /** The subject the request was limited under. */
  readonly key: string;

  constructor(limited: LimitedResponse, result: LimitResult, key: string) {
    const body = limited.body;
    super(
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : limited.payload,
      limited.status,
    );
    this.result = result;
    this.key = key;
  }
}

/** What the guard does to an Express response or a Fastify reply. */
interface ResponseAdapter {
  setHeader(name: string, value: string): void;
  /** Sets the Content-Type of the denial that Nest's exception layer is about to send. */
  setContentType(type: string): void;
  /** The Node response under it. */
  raw: EndingResponse;
}

/** Matches what Nest 11's ExpressAdapter accepts as a JSON Content-Type. */
const plainJson = /^application\/json/;

/** Sets headers on an Express response or a Fastify reply, and finds the Node response under it. */
function responseAdapter(response: unknown): ResponseAdapter {
  const reply = response as {
    header?: (name: string, value: string) => unknown;
    setHeader?: (name: string, value: string | string[]) => unknown;
    raw?: EndingResponse;
  };
  if (typeof reply.header === 'function' && typeof reply.raw === 'object' && reply.raw !== null) {
    const setHeader = (name: string, value: string) => reply.header?.(name, value);
    return { setHeader, setContentType: (type) => setHeader('Content-Type', type), raw: reply.raw };
  }
  if (typeof reply.setHeader === 'function') {
    const express = response as { json?: (body: unknown) => unknown };
    return {
      setHeader: (name, value) => reply.setHeader?.(name, value),
      // Nest 11's ExpressAdapter.reply() replaces a string Content-Type that does
      // not start with "application/json" on an error body, and logs "WARN
      // Content-Type doesn't match Reply body" for every denial; Express 5.3
      // (Nest 12) sends any Content-Type that is not a string as text/html. So
      // the type is set by this response's res.json(), which Nest calls after
      // its check, and Express's res.json() keeps a type already set.
      setContentType: (type) => {
        const json = express.json;
        if (plainJson.test(type) || typeof json !== 'function') {
          reply.setHeader?.('Content-Type', type);
          return;
        }
        express.json = function jsonWithType(this: unknown, body: unknown) {
          express.json = json;
          reply.setHeader?.('Content-Type', type);
          return json.call(this, body);
        };
      },
      raw: response as EndingResponse,
    };
  }
  throw new TypeError('RateLimitGuard: the response is neither an Express response nor a Fastify reply');
}

/**
 * The guard that rate-limits HTTP requests (other contexts pass). Honours
 * {@link RateLimit} and {@link SkipRateLimit} on the handler, then its
 * controller. Admitted responses get the rate-limit headers; a denied request
 * ends with {@link RateLimitExceededException}. A concurrency lease is
 * released when the underlying Node response finishes or closes.
 *
 * @example
 * ```ts
 * @UseGuards(RateLimitGuard) // only with RateLimitModule.forRoot({ limiter, globalGuard: false })
 * @Controller('search')
 * class SearchController {}
 * ```
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  /** One request limiter per limiter used (`undefined`: the module's `limiter`), made on first use. */
  private readonly checks = new Map<string | undefined, RequestLimiter<unknown>>();

  constructor(
    @Inject(RATE_LIMIT_OPTIONS) private readonly options: NestOptions,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(skipMetadata, targets)) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<Record<symbol, unknown>>();
    if (request[checked]) return true;
    request[checked] = true;
    const [onHandler, onController] = this.reflector.getAll<(RouteMetadata | undefined)[]>(routeMetadata, targets);
    const route = mergeRoute(onHandler, onController);
    const outcome = await this.checkOf(route?.limiter)(request, route?.route);
    if (outcome.kind === 'skipped') return true;
    const response = responseAdapter(http.getResponse());
    for (const [name, value] of Object.entries(outcome.headers)) response.setHeader(name, value);
    const { limited, result } = outcome;
    if (result.lease) releaseWhenDone(response.raw, result.lease);
    if (!limited) return true;
    // Nest serialises object bodies as JSON and keeps a JSON-family Content-Type set here.
    if (typeof limited.body === 'object' && limited.body !== null) {
      response.setContentType(limited.contentType);
    }
    throw new RateLimitExceededException(limited, result, outcome.key);
  }

  private checkOf(name: string | undefined): RequestLimiter<unknown> {
    let check = this.checks.get(name);
    if (!check) {
      const limiter = name === undefined ? this.options.limiter : this.options.limiters[name];
      if (!limiter) {
        throw new InvalidOptionsError(
          [{ path: 'limiter', message: `no limiter named ${JSON.stringify(name)} in RateLimitModule's limiters` }],
          { context: '@RateLimit()' },
        );
      }
      check = createRequestLimiter({ ...this.options, limiter });
      this.checks.set(name, check);
    }
    return check;
  }
}

/** Options of {@link RateLimit}. */
export interface RateLimitDecoratorOptions<Req = RequestWithAddress> extends RouteRateLimitOptions<Req> {
  /**
   * Name of one of the module's `limiters` to limit with instead of its `limiter`.
   * @default the module's `limiter`
   */
  readonly limiter?: string;
}

/**
 * Sets the limiter, cost or key of a handler or a whole controller. Settings
 * on a handler override its controller's, field by field. Throws
 * `InvalidOptionsError` (where the class is declared) for a bad option.
 *
 * @param options `limiter` (a name from the module's `limiters`), `cost`
 * (units per request) and/or `key`. @default the module's
 * @example
 * ```ts
 * @Controller('account')
 * @RateLimit({ limiter: 'account' })
 * class AccountController {
 *   @Post('login')
 *   @RateLimit({ limiter: 'login' })
 *   login() {}
 *
 *   @Post('export')
 *   @RateLimit({ cost: 10 }) // with the 'account' limiter
 *   export() {}
 * }
 * ```
 */
export function RateLimit<Req = RequestWithAddress>(
  options: RateLimitDecoratorOptions<Req>,
): MethodDecorator & ClassDecorator {
  const { limiter, ...route } = (options ?? {}) as RateLimitDecoratorOptions<Req>;
  if (limiter !== undefined && (typeof limiter !== 'string' || !limiterNamePattern.test(limiter))) {
    throw new InvalidOptionsError([{ path: 'limiter', message: 'must be 1–64 letters, digits, "_" or "-"' }], {
      context: '@RateLimit()',
    });
  }
  const metadata: RouteMetadata = { route: parseRouteOptions<unknown>(route, '@RateLimit()'), limiter };
  return SetMetadata(routeMetadata, metadata);
}

/**
 * Exempts a handler or a whole controller from rate limiting; no call to
 * Redis is made. `@SkipRateLimit(false)` on a handler re-enables it inside a
 * skipped controller.
 *
 * @param skip @default true
 * @example
 * ```ts
 * @Get('health')
 * @SkipRateLimit()
 * health() { return 'ok' }
 * ```
 */
export function SkipRateLimit(skip = true): MethodDecorator & ClassDecorator {
  return SetMetadata(skipMetadata, skip);
}

function guardProviders(globalGuard: boolean): Provider[] {
  return [RateLimitGuard, ...(globalGuard ? [{ provide: APP_GUARD, useExisting: RateLimitGuard }] : [])];
}

/**
 * Nest module of the rate limiter. Global: {@link RateLimitGuard} can be used
 * anywhere once the module is imported in the root module.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [RateLimitModule.forRoot({ limiter, headers: { legacy: true } })],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: Nest modules are classes; this one is configured statically.
export class RateLimitModule {
  /**
   * Configures the module with options known up front. Throws
   * `InvalidOptionsError` naming the field for a bad option.
   *
   * @example
   * ```ts
   * RateLimitModule.forRoot({ limiter, key: byUser((req) => req.user?.id) })
   * ```
   */
  static forRoot<Req = RequestWithAddress>(options: RateLimitModuleOptions<Req>): DynamicModule {
    const resolved = parseHttpOptions<Req, { globalGuard: boolean; limiters: Record<string, RateLimiter> }>(
      moduleSchema,
      options,
      'RateLimitModule.forRoot()',
    );
    return {
      module: RateLimitModule,
      global: true,
      providers: [{ provide: RATE_LIMIT_OPTIONS, useValue: resolved }, ...guardProviders(resolved.globalGuard)],
      exports: [RATE_LIMIT_OPTIONS, RateLimitGuard],
    };
  }

  /**
   * Configures the module from a factory, e.g. one that injects your Redis
   * client. The factory's options are checked when the app starts.
   *
   * @example
   * ```ts
   * RateLimitModule.forRootAsync({
   *   inject: [REDIS],
   *   useFactory: (redis: Redis) => ({ limiter: new RateLimiter({ redis, policies }) }),
   * })
   * ```
   */
  static forRootAsync<Req = RequestWithAddress>(options: RateLimitModuleAsyncOptions<Req>): DynamicModule {
    const { globalGuard } = parseOptions(asyncSchema, options, 'RateLimitModule.forRootAsync()');
    const { imports = [], inject = [], useFactory } = options;
    return {
      module: RateLimitModule,
      global: true,
      imports,
      providers: [
        {
          provide: RATE_LIMIT_OPTIONS,
          inject,
          useFactory: async (...args: never[]) =>
            parseHttpOptions<Req, { limiters: Record<string, RateLimiter> }>(
              factorySchema,
              await useFactory(...args),
              'RateLimitModule.forRootAsync() factory',
            ),
        },
        ...guardProviders(globalGuard),
      ],
      exports: [RATE_LIMIT_OPTIONS, RateLimitGuard],
    };
  }
}

// The HTTP helpers every middleware entry point offers (see http/public.ts).
export * from './http/public.js';
export {
  RedkitThrottlerStorage,
  type RedkitThrottlerStorageOptions,
  type ThrottlerStorageRecord,
} from './nest-throttler-storage.js';
