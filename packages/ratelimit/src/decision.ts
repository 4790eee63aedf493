import type { Policy } from './options.js';
import type { PolicyResult } from './result.js';

/** What Redis (or the fallback) decided, before it becomes a {@link LimitResult}. */
export interface Decision {
  allowed: boolean;
  blockedForMs: number;
  policies: PolicyResult[];
}

/**
 * Reads the flat reply of check-limits.lua:
 * `{allowed, blocked ms, then per policy: allowed, limit, remaining, reset ms, retry ms}`.
 */
export function decodeDecision(reply: readonly number[], policies: readonly Policy[]): Decision {
  const blockedForMs = Number(reply[1]);
  return {
    allowed: reply[0] === 1,
    blockedForMs,
    policies: policies.map((policy, index) => {
      const base = 2 + index * 5;
      // A blocked subject is denied before policies are read: report them exhausted.
      if (reply.length <= base) {
        return {
          name: policy.name,
          algorithm: policy.algorithm,
          allowed: false,
          limit: 0,
          remaining: 0,
          resetAfterMs: blockedForMs,
          retryAfterMs: blockedForMs,
        };
      }
      return {
        name: policy.name,
        algorithm: policy.algorithm,
        allowed: reply[base] === 1,
        limit: Number(reply[base + 1]),
        remaining: Number(reply[base + 2]),
        resetAfterMs: Number(reply[base + 3]),
        retryAfterMs: Number(reply[base + 4]),
      };
    }),
  };
}
