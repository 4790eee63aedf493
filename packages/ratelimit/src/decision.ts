import { type Policy, policyCapacity } from './options.js';
import type { PolicyResult } from './result.js';

/** What Redis (or the fallback) decided, before it becomes a {@link LimitResult}. */
export interface Decision {
  allowed: boolean;
  blockedForMs: number;
  /** The subject was blocked before this request, so no policy was looked at. */
  alreadyBlocked?: boolean;
  policies: PolicyResult[];
}

/**
 * Reads the reply of the check-limits script, a string of integers:
 * `allowed, blocked ms`, then per policy `remaining, reset ms` when the
 * request was admitted and consumed (`compact`), else `allowed, remaining,
 * reset ms, retry ms`. The limit of each policy is known here, so the script
 * does not send it.
 */
export function decodeDecision(text: string, policies: readonly Policy[], compact: boolean): Decision {
  const reply = parseIntegers(text);
  const blockedForMs = reply[1] as number;
  const allowed = reply[0] === 1;
  const width = compact && allowed ? 2 : 4;
  return {
    allowed,
    blockedForMs,
    alreadyBlocked: blockedForMs > 0 && reply.length === 2,
    policies: policies.map((policy, index) => {
      const base = 2 + index * width;
      const limit = policyCapacity(policy);
      // A blocked subject is denied before policies are read: report them exhausted.
      if (reply.length <= base) {
        const wait = blockedForMs;
        return {
          name: policy.name,
          algorithm: policy.algorithm,
          allowed: false,
          limit,
          remaining: 0,
          resetAfterMs: wait,
          retryAfterMs: wait,
        };
      }
      if (width === 2) {
        return {
          name: policy.name,
          algorithm: policy.algorithm,
          allowed: true,
          limit,
          remaining: reply[base] as number,
          resetAfterMs: reply[base + 1] as number,
          retryAfterMs: 0,
        };
      }
      return {
        name: policy.name,
        algorithm: policy.algorithm,
        allowed: reply[base] === 1,
        limit,
        remaining: reply[base + 1] as number,
        resetAfterMs: reply[base + 2] as number,
        retryAfterMs: reply[base + 3] as number,
      };
    }),
  };
}

/** `"1 0 42 500"` → `[1, 0, 42, 500]`; twice as fast as `split(' ').map(Number)`. */
function parseIntegers(text: string): number[] {
  const values: number[] = [];
  let start = 0;
  for (;;) {
    const end = text.indexOf(' ', start);
    if (end === -1) {
      values.push(+text.slice(start));
      return values;
    }
    values.push(+text.slice(start, end));
    start = end + 1;
  }
}
