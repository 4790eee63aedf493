/**
 * Options of the express-session store: a {@link SessionStore}, or an
 * ioredis client with connect-redis's options (`prefix`, `ttl`,
 * `serializer`, `disableTouch`, `scanCount`). Not a public entry point.
 *
 * @module
 */

import type { RedisConnection } from '@redkit/core';
import { type Duration, durationSchema, namespaceSchema, parseOptions, redisConnectionSchema } from '@redkit/core';
import { type SessionSchema, SessionStore } from '@redkit/session';
import { z } from 'zod';
import type { SessionSerializer } from './field-serializer.js';
import {
  type FrameworkSessionData,
  type FrameworkStoreOptions,
  frameworkOptionsShape,
  isFunction,
  sessionStoreSchema,
} from './framework-store.js';

const day = 86_400_000;
const longestIdle = 365 * day;
const longestAbsolute = 10 * 365 * day;

/** connect-redis's options that this store keeps, with the same names and meaning. */
export interface ConnectRedisOptions {
  /**
   * How long a session lives when its cookie has no `expires` (a browser-
   * session cookie), in seconds; or a function of the session giving its
   * time to live in seconds, used instead of the cookie's expiry (as in
   * connect-redis). A session whose time to live is 0 or less (its cookie
   * has expired) is not kept: saving it destroys it.
   * @default 86400 (one day)
   */
  ttl?: number | ((session: FrameworkSessionData) => number);
  /**
   * How sessions are turned into text and back, e.g. superjson to keep
   * Dates and Maps; applied to each top-level field on its own, so
   * concurrent requests that change different fields still both keep their
   * change. `parse` may be async.
   * @default JSON
   */
  serializer?: SessionSerializer;
  /**
   * Make express-session's `touch` (a request that changed nothing) do
   * nothing: the session's expiry is renewed only when it is saved.
   * @default false
   */
  disableTouch?: boolean;
  /** Not supported: sessions always expire (by their cookie, `ttl`, or the timeouts). Only `false` is accepted. */
  disableTTL?: false;
  /**
   * SCAN's COUNT hint for `all`, `ids`, `length` and `clear`.
   * @default 500
   */
  scanCount?: number;
}

/**
 * Options of {@link RedkitSessionStore}: either `store` (a
 * {@link SessionStore}, whose `ttl` and `absoluteTtl` bound every session),
 * or `redis` (`client`, as connect-redis names it) with an optional `prefix`
 * and timeouts; plus connect-redis's `ttl`, `serializer`, `disableTouch`
 * and `scanCount`, and how to find the user in the session data.
 *
 * @example
 * ```ts
 * // Coming from connect-redis: new RedisStore({ client, prefix: 'myapp:' })
 * const options: ExpressSessionStoreOptions = { redis, prefix: 'myapp:' }
 * ```
 */
export interface ExpressSessionStoreOptions<Schema extends SessionSchema | undefined = undefined>
  extends Omit<FrameworkStoreOptions<Schema>, 'store'>,
    ConnectRedisOptions {
  /** The store that keeps the sessions; give this, `redis` or `client`. */
  store?: SessionStore<Schema>;
  /** An ioredis client (Redis or Cluster); the store makes its own {@link SessionStore} on it. */
  redis?: RedisConnection;
  /** connect-redis's name for `redis`; it must be an ioredis client here (node-redis clients are not supported). */
  client?: RedisConnection;
  /**
   * Key prefix (with `redis`/`client`): keys are `<prefix>{<tag>}:s:<id>`.
   * A trailing colon is optional.
   * @default "sess:"
   */
  prefix?: string;
  /**
   * Idle timeout (with `redis`/`client`): a session unused for this long
   * ends, whatever its cookie says.
   * @default none (the cookie's expiry or `ttl` alone; at most a year)
   */
  idleTimeout?: Duration;
  /**
   * Absolute timeout (with `redis`/`client`): a session ends this long after
   * it was created, however active.
   * @default none (at most ten years)
   */
  absoluteTimeout?: Duration;
}

const ttlSchema = z.custom<number | ((session: FrameworkSessionData) => number)>(
  (value) => isFunction(value) || (typeof value === 'number' && Number.isFinite(value) && value > 0),
  'must be a number of seconds greater than 0, or a function (session) => seconds',
);

const serializerSchema = z.custom<SessionSerializer>(
  (value) =>
    // An object such as JSON, or a class with static methods such as superjson's default export.
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    isFunction((value as SessionSerializer).parse) &&
    isFunction((value as SessionSerializer).stringify),
  'must be an object with parse and stringify functions (as JSON has)',
);

const prefixSchema = z
  .string({ message: 'must be a string' })
  .transform((prefix) => (prefix.endsWith(':') ? prefix.slice(0, -1) : prefix))
  .pipe(namespaceSchema);

const optionsSchema = z
  .object({
    store: sessionStoreSchema.optional(),
    redis: redisConnectionSchema.optional(),
    client: redisConnectionSchema.optional(),
    prefix: prefixSchema.optional(),
    idleTimeout: durationSchema({ min: 1, max: longestIdle }).optional(),
    absoluteTimeout: durationSchema({ min: 1, max: longestAbsolute }).optional(),
    ttl: ttlSchema.default(86_400),
    serializer: serializerSchema.optional(),
    disableTouch: z.boolean({ message: 'must be a boolean' }).default(false),
    disableTTL: z
      .literal(false, {
        message: 'is not supported: sessions always expire (by their cookie, `ttl`, or the timeouts); remove it',
      })
      .optional(),
    scanCount: z.number().int('must be a whole number').min(1).max(100_000).optional(),
    ...frameworkOptionsShape,
  })
  .strict()
  .superRefine((options, ctx) => {
    const given = (['store', 'redis', 'client'] as const).filter((name) => options[name] !== undefined);
    if (given.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['redis'],
        message: 'is required: an ioredis client (or `client`, or `store`: a SessionStore)',
      });
    } else if (given.length > 1) {
      ctx.addIssue({ code: 'custom', path: [given[1] as string], message: `give only one of ${given.join(', ')}` });
    }
    if (
      options.idleTimeout !== undefined &&
      options.absoluteTimeout !== undefined &&
      options.absoluteTimeout < options.idleTimeout
    ) {
      ctx.addIssue({ code: 'custom', path: ['absoluteTimeout'], message: 'must be at least `idleTimeout`' });
    }
    if (options.store !== undefined) {
      for (const [name, own] of [
        ['prefix', 'namespace'],
        ['idleTimeout', 'ttl'],
        ['absoluteTimeout', 'absoluteTtl'],
      ] as const) {
        if (options[name] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [name], message: `with \`store\`, set the SessionStore's \`${own}\`` });
        }
      }
    }
  });

/** The options, parsed, with the {@link SessionStore} made when `redis`/`client` was given. */
export interface ResolvedExpressOptions<Schema extends SessionSchema | undefined> {
  readonly store: SessionStore<Schema>;
  readonly userId: ((session: FrameworkSessionData) => unknown) | undefined;
  readonly readCacheSize: number;
  readonly readCacheTtl: number;
  readonly ttl: number | ((session: FrameworkSessionData) => number);
  readonly serializer: SessionSerializer | undefined;
  readonly disableTouch: boolean;
  readonly scanCount: number | undefined;
}

/** @throws InvalidOptionsError naming the field; nothing is written. */
export function parseExpressOptions<Schema extends SessionSchema | undefined>(
  options: ExpressSessionStoreOptions<Schema>,
  context: string,
): ResolvedExpressOptions<Schema> {
  const parsed = parseOptions(optionsSchema, options, context);
  const redis = parsed.redis ?? parsed.client;
  let store = parsed.store as unknown as SessionStore<Schema> | undefined;
  if (store === undefined && redis !== undefined) {
    const absoluteTtl = parsed.absoluteTimeout ?? longestAbsolute;
    store = new SessionStore({
      redis,
      namespace: parsed.prefix ?? 'sess',
      ttl: parsed.idleTimeout ?? Math.min(longestIdle, absoluteTtl),
      absoluteTtl,
    }) as unknown as SessionStore<Schema>;
  }
  return {
    store: store as SessionStore<Schema>,
    userId: parsed.userId,
    readCacheSize: parsed.readCacheSize,
    readCacheTtl: parsed.readCacheTtl,
    ttl: parsed.ttl,
    serializer: parsed.serializer,
    disableTouch: parsed.disableTouch,
    scanCount: parsed.scanCount,
  };
}
