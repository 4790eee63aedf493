/**
 * Fastify 5 plugin: `@redkit/ratelimit/fastify`.
 *
 * @module
 */
import type { Lease } from '@redkit/ratelimit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  httpOptionsShape,
  parseHttpOptions,
  parseRouteOptions,
  type RateLimitHttpOptions,
  type ResolvedRouteOptions,
  type RouteRateLimitOptions,
} from './http/http-options.js';
import { createRequestLimiter } from './http/limit-request.js';

/** Per-route setting in `config.rateLimit`: `false` turns limiting off for the route. */
export type FastifyRouteRateLimit = false | RouteRateLimitOptions<FastifyRequest>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `false` exempts the route; `{ cost, key }` overrides the plugin's.
     * @default undefined (the plugin's settings)
     */
    rateLimit?: FastifyRouteRateLimit;
  }
}

/** Options of {@link rateLimitPlugin}. */
export interface FastifyRateLimitOptions extends RateLimitHttpOptions<FastifyRequest> {
  /**
   * Hook the check runs in. `onRequest` denies before the body is read;
   * `preHandler` runs after body parsing, validation and `preValidation`
   * hooks (where authentication often lives), for a `key` that needs them.
   * @default "onRequest"
   */
  readonly hook?: 'onRequest' | 'preHandler';
}

const schema = httpOptionsShape.extend({ hook: z.enum(['onRequest', 'preHandler']).default('onRequest') }).strict();

const leaseKey = Symbol('redkit.ratelimit.lease');

type WithLease = FastifyRequest & { [leaseKey]: Lease | null };

function release(request: FastifyRequest): void {
  const holder = request as WithLease;
  const lease = holder[leaseKey];
  if (!lease) return;
  holder[leaseKey] = null;
  // The lease expires after its ttl anyway; a response hook has nobody to tell.
  lease.release().catch(() => {});
}

/**
 * Marks a plugin as not encapsulated, with its name and the Fastify versions
 * it supports: the three symbols Fastify reads, which is all `fastify-plugin`
 * sets. Setting them here spares users a peer dependency whose major must
 * match (`fastify-plugin` 5 and 6 write the same symbols).
 */
function unencapsulated<Plugin extends object>(fn: Plugin, meta: { fastify: string; name: string }): Plugin {
  return Object.assign(fn, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: meta.name,
    [Symbol.for('plugin-meta')]: meta,
  });
}

const plugin: FastifyPluginAsync<FastifyRateLimitOptions> = async (app, input) => {
  // Fastify's own register() options are not ours to validate.
  const {
    prefix: _prefix,
    logLevel: _logLevel,
    logSerializers: _logSerializers,
    ...rest
  } = input as FastifyRateLimitOptions & { prefix?: unknown; logLevel?: unknown; logSerializers?: unknown };
  const options = parseHttpOptions<FastifyRequest, { hook: 'onRequest' | 'preHandler' }>(
    schema,
    rest,
    'rateLimitPlugin',
  );
  const check = createRequestLimiter(options);
  // Route overrides are validated once, when the route is declared.
  const routes = new WeakMap<object, ResolvedRouteOptions<FastifyRequest>>();

  // Routes declared before the plugin were not seen by onRoute: parsed on first use.
  const routeOptions = (setting: RouteRateLimitOptions<FastifyRequest>) => {
    let parsed = routes.get(setting);
    if (!parsed) {
      parsed = parseRouteOptions<FastifyRequest>(setting, 'config.rateLimit');
      routes.set(setting, parsed);
    }
    return parsed;
  };

  app.decorateRequest(leaseKey, null);
  app.addHook('onRoute', (route) => {
    const setting = route.config?.rateLimit;
    if (setting !== undefined && setting !== false) {
      routes.set(setting, parseRouteOptions(setting, `route ${route.method} ${route.url} config.rateLimit`));
    }
  });

  app.addHook(options.hook, async (request: FastifyRequest, reply: FastifyReply) => {
    const setting = request.routeOptions.config.rateLimit;
    if (setting === false) return;
    const route = setting === undefined ? undefined : routeOptions(setting);
    const outcome = await check(request, route);
    if (outcome.kind === 'skipped') return;
    reply.headers(outcome.headers);
    const { limited, result } = outcome;
    if (result.lease) {
      (request as WithLease)[leaseKey] = result.lease;
      // The client may have gone while Redis answered, and no hook would fire.
      // (The response, not the request: a request is destroyed once its body is read.)
      if (reply.raw.destroyed) release(request);
    }
    if (limited) {
      return reply.code(limited.status).type(limited.contentType).send(limited.payload);
    }
  });
  app.addHook('onResponse', async (request) => release(request));
  app.addHook('onRequestAbort', async (request) => release(request));
};

/**
 * Fastify 5 plugin that rate-limits every route of the app (it is wrapped
 * as `fastify-plugin` would, so it is not encapsulated). Routes opt out with
 * `config: { rateLimit: false }` or override with
 * `config: { rateLimit: { cost, key } }`. Admitted replies get the
 * `RateLimit-Policy` / `RateLimit` headers; denied ones `statusCode` (429)
 * with `Retry-After` and an `application/problem+json` body. Concurrency
 * leases are released in `onResponse` / `onRequestAbort`.
 *
 * Registration fails with `InvalidOptionsError` naming the field when an
 * option is wrong; a route declaration fails likewise for a bad override.
 *
 * @example
 * ```ts
 * import { rateLimitPlugin } from '@redkit/ratelimit/fastify'
 *
 * const app = Fastify({ trustProxy: 1 })
 * await app.register(rateLimitPlugin, { limiter })
 * app.get('/health', { config: { rateLimit: false } }, () => 'ok')
 * app.post('/search', { config: { rateLimit: { cost: 5 } } }, search)
 * ```
 */
export const rateLimitPlugin = unencapsulated(plugin, { fastify: '5.x', name: '@redkit/ratelimit' });

export {
  createRateLimitStore,
  type RateLimitStore,
  type RateLimitStoreCallback,
  type RateLimitStoreClass,
  type RateLimitStoreOptions,
  type RateLimitStoreResult,
  type RateLimitStoreSettings,
} from './fastify-rate-limit-store.js';

// The HTTP helpers every middleware entry point offers (see http/public.ts).
export * from './http/public.js';
