import type { LimitResult, Policy } from '@redkit/ratelimit';

/** Which rate-limit response headers to send. */
export interface HeaderOptions {
  /**
   * The IETF `RateLimit-Policy` and `RateLimit` fields
   * (draft-ietf-httpapi-ratelimit-headers, structured-field lists).
   * @default true
   */
  readonly standard?: boolean;
  /**
   * The de-facto `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
   * `X-RateLimit-Reset` (epoch seconds) headers, for older clients.
   * @default false
   */
  readonly legacy?: boolean;
}

/** Response headers by name, ready for `setHeader`. */
export type RateLimitHeaders = Record<string, string>;

const policyHeaderCache = new WeakMap<readonly Policy[], string>();

/**
 * Serialises a structured-field String (RFC 9651 §4.1.6). Policy names are
 * validated to `[A-Za-z0-9_-]`, so escaping is only a safety net.
 */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** Whole seconds, rounded up: the fields have no sub-second precision. */
function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1_000));
}

/** One Quota Policy Item: `"name";q=<quota>;w=<window seconds>`. */
function policyItem(policy: Policy): string {
  const name = sfString(policy.name);
  // The window must be a non-zero integer, so sub-second windows advertise 1s
  // (a quota per longer window is the conservative reading for a client).
  const window = (ms: number) => Math.max(1, seconds(ms));
  switch (policy.algorithm) {
    case 'fixed-window':
    case 'sliding-window':
    case 'sliding-log':
      return `${name};q=${policy.limit};w=${window(policy.window)}`;
    case 'token-bucket':
      // A full bucket drains at once and refills in capacity / rate.
      return `${name};q=${policy.capacity};w=${window((policy.capacity * policy.interval) / policy.refillRate)}`;
    case 'gcra':
      // The burst is admitted at once and earned back at limit / period.
      return `${name};q=${policy.burst};w=${window((policy.period * policy.burst) / policy.limit)}`;
    case 'concurrency':
      // Requests in flight at once have no window; the draft's unit says what q counts.
      return `${name};q=${policy.limit};qu="concurrent-requests"`;
  }
}

/**
 * The `RateLimit-Policy` field value: one named item per configured policy.
 *
 * @example
 * ```ts
 * formatPolicyHeader(limiter.policies) // '"minute";q=100;w=60, "day";q=5000;w=86400'
 * ```
 */
export function formatPolicyHeader(policies: readonly Policy[]): string {
  let value = policyHeaderCache.get(policies);
  if (value === undefined) {
    value = policies.map(policyItem).join(', ');
    policyHeaderCache.set(policies, value);
  }
  return value;
}

/**
 * The `Retry-After` value of a denied request: whole seconds, at least 1 (a
 * client told 0 would retry at once).
 *
 * @example
 * ```ts
 * retryAfterSeconds({ ...result, retryAfterMs: 1200 }) // 2
 * ```
 */
export function retryAfterSeconds(result: LimitResult): number {
  return Math.max(1, seconds(result.retryAfterMs));
}

/**
 * Builds the rate-limit response headers of one check:
 *
 * - `RateLimit-Policy`: every configured policy (see {@link formatPolicyHeader}).
 * - `RateLimit`: the binding policy (the one `result.limit`, `remaining` and
 *   `resetAt` describe) as `"name";r=<remaining>;t=<seconds to reset>`;
 *   concurrency policies have no window, so no `t`.
 * - `Retry-After` when the request is denied.
 * - `X-RateLimit-*` when `legacy` is on.
 *
 * When Redis failed and the request was let through (`decidedBy: 'fail-open'`)
 * the current state is unknown, so `RateLimit` and the legacy remaining/reset
 * headers are left out rather than made up.
 *
 * @example
 * ```ts
 * const result = await limiter.limit(ip)
 * for (const [name, value] of Object.entries(rateLimitHeaders(result, limiter.policies))) res.setHeader(name, value)
 * // RateLimit-Policy: "minute";q=100;w=60
 * // RateLimit: "minute";r=99;t=60
 * ```
 */
export function rateLimitHeaders(
  result: LimitResult,
  policies: readonly Policy[],
  options?: HeaderOptions,
): RateLimitHeaders {
  const headers: RateLimitHeaders = {};
  const known = result.decidedBy !== 'fail-open';
  if (options?.standard ?? true) {
    headers['RateLimit-Policy'] = formatPolicyHeader(policies);
    const binding = result.policies.find((policy) => policy.name === result.policy);
    if (known && binding) {
      const resetMs = Math.max(binding.resetAfterMs, result.blockedForMs);
      const reset = binding.algorithm === 'concurrency' && result.blockedForMs === 0 ? '' : `;t=${seconds(resetMs)}`;
      headers.RateLimit = `${sfString(binding.name)};r=${result.remaining}${reset}`;
    }
  }
  if (options?.legacy ?? false) {
    headers['X-RateLimit-Limit'] = String(result.limit);
    if (known) {
      headers['X-RateLimit-Remaining'] = String(result.remaining);
      headers['X-RateLimit-Reset'] = String(Math.ceil(result.resetAt / 1_000));
    }
  }
  if (!result.allowed) headers['Retry-After'] = String(retryAfterSeconds(result));
  return headers;
}
