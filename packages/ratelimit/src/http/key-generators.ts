import { InvalidOptionsError } from '@redkit/core';
import { checkIpv6Subnet, defaultIpv6Subnet, normalizeIp } from './client-ip.js';

/**
 * The part of a request the IP key reads: Express's and Fastify's `req.ip`
 * (which honours their trust-proxy setting), else the socket's peer address.
 */
export interface RequestWithAddress {
  readonly ip?: string | undefined;
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined;
}

/**
 * Gives the subject a request is limited under. Any function of the request
 * works; {@link byIp} and {@link byUser} are the common ones.
 *
 * @example
 * ```ts
 * const byApiKey: KeyGenerator<Request> = (req) => `key:${req.get('x-api-key') ?? 'anonymous'}`
 * ```
 */
export type KeyGenerator<Req> = (request: Req) => string | Promise<string>;

/** Key generators made by {@link byIp} and {@link byUser}: they read the client IP (a user's fallback). */
const ipReaders = new WeakSet<object>();

/**
 * Whether `key` was made by {@link byIp} or {@link byUser}, so it depends on
 * the framework's trust-proxy setting (the middleware warns when that looks wrong).
 */
export function readsClientIp(key: unknown): boolean {
  return typeof key === 'function' && ipReaders.has(key);
}

/** Options of {@link byIp}. */
export interface ByIpOptions {
  /**
   * Prefix length IPv6 clients are grouped by (0–128; 128 = each address alone).
   * @default 64
   */
  readonly ipv6Subnet?: number;
}

/**
 * Limits by client IP: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 grouped by
 * its /64 network (see {@link normalizeIp}). The address comes from `req.ip`,
 * so configure your framework's trust-proxy setting when behind a proxy, or
 * every client will share the proxy's budget.
 *
 * @example
 * ```ts
 * app.set('trust proxy', 1) // one proxy in front
 * app.use(rateLimit({ limiter, key: byIp({ ipv6Subnet: 56 }) }))
 * ```
 */
export function byIp(options?: ByIpOptions): KeyGenerator<RequestWithAddress> {
  const ipv6Subnet =
    options?.ipv6Subnet === undefined ? defaultIpv6Subnet : checkIpv6Subnet(options.ipv6Subnet, 'byIp()');
  const key: KeyGenerator<RequestWithAddress> = (request) => {
    const address = request.ip || request.socket?.remoteAddress;
    // A request without a peer address (its socket already gone) must not
    // share one "unknown" budget with every other such request.
    if (!address) {
      throw new InvalidOptionsError([{ path: 'address', message: 'the request has no client IP address' }], {
        context: 'byIp()',
      });
    }
    return normalizeIp(address, { ipv6Subnet });
  };
  ipReaders.add(key);
  return key;
}

/** Options of {@link byUser}. */
export interface ByUserOptions<Req> {
  /**
   * Key of requests without a user (anonymous ones).
   * @default byIp()
   */
  readonly fallback?: KeyGenerator<Req>;
}

/**
 * Limits by user id, as `user:<id>`; requests without one fall back to
 * `fallback` (their IP by default), so anonymous traffic is limited too.
 *
 * @example
 * ```ts
 * app.use(rateLimit({ limiter, key: byUser((req) => req.user?.id) }))
 * ```
 */
export function byUser<Req extends RequestWithAddress>(
  getUserId: (request: Req) => string | number | null | undefined | Promise<string | number | null | undefined>,
  options?: ByUserOptions<Req>,
): KeyGenerator<Req> {
  if (typeof getUserId !== 'function') {
    throw new InvalidOptionsError([{ path: 'getUserId', message: 'must be a function' }], { context: 'byUser()' });
  }
  const fallback: KeyGenerator<Req> = options?.fallback ?? byIp();
  const key: KeyGenerator<Req> = async (request) => {
    const id = await getUserId(request);
    return id === undefined || id === null || id === '' ? fallback(request) : `user:${id}`;
  };
  if (readsClientIp(fallback)) ipReaders.add(key);
  return key;
}
