import { createHash } from 'node:crypto';
import type { LimitResult, Policy, PolicyResult } from '@redkit/ratelimit';
import { algorithmOf } from '../algorithms/index.js';

/**
 * Versions of the IETF draft "RateLimit header fields for HTTP"
 * (draft-ietf-httpapi-ratelimit-headers) that can be sent, as
 * express-rate-limit names them:
 *
 * - `draft-6`: `RateLimit-Policy` plus `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`;
 * - `draft-7`: `RateLimit-Policy` plus one `RateLimit: limit=…, remaining=…, reset=…`;
 * - `draft-8`: named structured-field lists, `RateLimit-Policy: "name";q=…;w=…;pk=…` and
 *   `RateLimit: "name";r=…;t=…` (the current form).
 */
export type HeaderDraft = 'draft-6' | 'draft-7' | 'draft-8';

/** The drafts {@link HeaderDraft} lists, for validation. */
export const headerDrafts = ['draft-6', 'draft-7', 'draft-8'] as const;

/** Which rate-limit response headers to send. */
export interface HeaderOptions {
  /**
   * The IETF rate-limit fields: `true` (the current draft, `draft-8`), a
   * draft version (see {@link HeaderDraft}), or `false` for none.
   * @default true
   */
  readonly standard?: boolean | HeaderDraft;
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
const policyItemsCache = new WeakMap<readonly Policy[], readonly string[]>();
const draft6PolicyCache = new WeakMap<readonly Policy[], string>();

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

/** One draft-8 Quota Policy Item: `"name";q=<quota>;w=<window seconds>`. */
function policyItem(policy: Policy): string {
  const { quota, windowSeconds } = algorithmOf(policy).quota(policy);
  // Without a window, the draft's quota unit says what q counts.
  const tail = windowSeconds === undefined ? ';qu="concurrent-requests"' : `;w=${windowSeconds}`;
  return `${sfString(policy.name)};q=${quota}${tail}`;
}

/** The draft-8 items of `policies`, built once per limiter. */
function policyItems(policies: readonly Policy[]): readonly string[] {
  let items = policyItemsCache.get(policies);
  if (items === undefined) {
    items = policies.map(policyItem);
    policyItemsCache.set(policies, items);
  }
  return items;
}

/**
 * The `RateLimit-Policy` field value: one named item per configured policy.
 * With a `partitionKey` (see {@link partitionKey}) each item carries it as
 * the draft's `pk` parameter.
 *
 * @example
 * ```ts
 * formatPolicyHeader(limiter.policies) // '"minute";q=100;w=60, "day";q=5000;w=86400'
 * formatPolicyHeader(limiter.policies, partitionKey('127.0.0.1')) // '"minute";q=100;w=60;pk=:…:, …'
 * ```
 */
export function formatPolicyHeader(policies: readonly Policy[], partitionKey?: string): string {
  if (partitionKey !== undefined) {
    const pk = `;pk=:${partitionKey}:`;
    return policyItems(policies)
      .map((item) => item + pk)
      .join(', ');
  }
  let value = policyHeaderCache.get(policies);
  if (value === undefined) {
    value = policyItems(policies).join(', ');
    policyHeaderCache.set(policies, value);
  }
  return value;
}

/**
 * The `pk` (partition key) of the draft-8 fields for a rate-limit key: the
 * first 9 bytes of its SHA-256 in base64, so a client can tell its
 * partitions apart without the key itself (an IP, a user id) being sent.
 *
 * @example
 * ```ts
 * partitionKey('127.0.0.1') // 12 base64 characters, the same for every request of that key
 * ```
 */
export function partitionKey(key: string): string {
  return createHash('sha256').update(key).digest().subarray(0, 9).toString('base64');
}

/**
 * The draft-6/7 `RateLimit-Policy`: `<quota>;w=<window seconds>` per policy
 * (a bare quota for a concurrency policy, which has no window).
 */
function draft6PolicyHeader(policies: readonly Policy[]): string {
  let value = draft6PolicyCache.get(policies);
  if (value === undefined) {
    value = policies
      .map((policy) => {
        const { quota, windowSeconds } = algorithmOf(policy).quota(policy);
        return windowSeconds === undefined ? String(quota) : `${quota};w=${windowSeconds}`;
      })
      .join(', ');
    draft6PolicyCache.set(policies, value);
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
 * Builds the rate-limit response headers of one check, in the draft that
 * `options.standard` names (`true` = `draft-8`):
 *
 * - `draft-8`: `RateLimit-Policy` with every configured policy (see
 *   {@link formatPolicyHeader}; with `key`, each item has the `pk` partition
 *   key), and `RateLimit` for the binding policy (the one `result.limit`,
 *   `remaining` and `resetAt` describe) as `"name";r=<remaining>;t=<seconds to reset>`;
 *   concurrency policies have no window, so no `t`.
 * - `draft-7`: `RateLimit-Policy: <quota>;w=<window>, …` and
 *   `RateLimit: limit=<limit>, remaining=<remaining>, reset=<seconds>` of the binding policy.
 * - `draft-6`: the same `RateLimit-Policy`, and the binding policy as
 *   `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
 * - `Retry-After` when the request is denied.
 * - `X-RateLimit-*` when `legacy` is on.
 *
 * When Redis failed and the request was let through (`decidedBy: 'fail-open'`)
 * the current state is unknown, so remaining and reset are left out rather
 * than made up (the policy and the limit are still sent).
 *
 * @param key the rate-limit key of the request, for draft-8's `pk`.
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
  key?: string,
): RateLimitHeaders {
  const headers: RateLimitHeaders = {};
  const known = result.decidedBy !== 'fail-open';
  const standard = options?.standard ?? true;
  if (standard !== false) {
    const binding = known ? result.policies.find((policy) => policy.name === result.policy) : undefined;
    // A concurrency policy has no reset time unless the subject is blocked.
    const reset = binding && hasReset(binding, result) ? seconds(resetMs(binding, result)) : undefined;
    if (standard === true || standard === 'draft-8') {
      headers['RateLimit-Policy'] = formatPolicyHeader(policies, key === undefined ? undefined : partitionKey(key));
      if (binding) {
        headers.RateLimit = `${sfString(binding.name)};r=${result.remaining}${reset === undefined ? '' : `;t=${reset}`}`;
      }
    } else {
      headers['RateLimit-Policy'] = draft6PolicyHeader(policies);
      if (standard === 'draft-7') {
        if (binding) {
          headers.RateLimit = `limit=${result.limit}, remaining=${result.remaining}${reset === undefined ? '' : `, reset=${reset}`}`;
        }
      } else {
        headers['RateLimit-Limit'] = String(result.limit);
        if (binding) {
          headers['RateLimit-Remaining'] = String(result.remaining);
          if (reset !== undefined) headers['RateLimit-Reset'] = String(reset);
        }
      }
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

function hasReset(binding: PolicyResult, result: LimitResult): boolean {
  // A lease-holding policy (concurrency) has no window to reset, unless the subject is blocked.
  return !algorithmOf(binding).lease || result.blockedForMs > 0;
}

function resetMs(binding: PolicyResult, result: LimitResult): number {
  return Math.max(binding.resetAfterMs, result.blockedForMs);
}
