import type { Algorithm } from './options.js';

/** Which path decided a request. */
export type DecidedBy =
  /** Redis ran the check. */
  | 'redis'
  /** The in-process cache of denied subjects answered, without Redis. */
  | 'denied-cache'
  /** Redis failed or timed out and the in-process fallback limiter decided. */
  | 'fallback'
  /** Redis failed or timed out and the request was admitted (failure mode `open`). */
  | 'fail-open'
  /** Redis failed or timed out and the request was denied (failure mode `closed`). */
  | 'fail-closed'
  /**
   * Redis admitted the request, but fewer replicas than `replicas.count`
   * acknowledged it in time and `replicas.onShortfall` is `deny`.
   */
  | 'replica-shortfall';

/** The state of one policy after a check. */
export interface PolicyResult {
  readonly name: string;
  readonly algorithm: Algorithm;
  /** Whether this policy alone would admit the request. */
  readonly allowed: boolean;
  /** Units the policy admits per window (capacity / burst for buckets). */
  readonly limit: number;
  /** Units still available now (after this request, when admitted). */
  readonly remaining: number;
  /** Until the policy is back to its full quota, in ms. */
  readonly resetAfterMs: number;
  /** Until a request of the same cost would be admitted, in ms (0 when admitted). */
  readonly retryAfterMs: number;
}

/** The answer of {@link RateLimiter.limit}. Denial is a value, not an exception. */
export interface LimitResult {
  /** Admit the request? (Always true in dry-run mode; see `wouldAllow`.) */
  readonly allowed: boolean;
  /** What the limits decided, even in dry-run mode. */
  readonly wouldAllow: boolean;
  /** Name of the most restrictive policy: the one `limit`, `remaining` and `resetAt` describe. */
  readonly policy: string;
  /** Limit of the most restrictive policy. */
  readonly limit: number;
  /** Remaining units of the most restrictive policy. */
  readonly remaining: number;
  /** When the most restrictive policy is back to its full quota (epoch ms, local clock). */
  readonly resetAt: number;
  /** Until a request of the same cost would be admitted, in ms (0 when admitted). */
  readonly retryAfterMs: number;
  /** While the subject is blocked (by `block()` or a penalty), the ms left; else 0. */
  readonly blockedForMs: number;
  readonly policies: readonly PolicyResult[];
  readonly decidedBy: DecidedBy;
  /** Set when Redis was not used because it failed: `timeout` or `unavailable`. */
  readonly redisFailure?: 'timeout' | 'unavailable';
  /**
   * Replicas that acknowledged the check, when the limiter has the `replicas`
   * option and Redis admitted the request; otherwise absent.
   */
  readonly replicas?: number;
  /** The lease to release when the request ends, when a concurrency policy admitted it. */
  readonly lease?: Lease;
}

/** Slots taken by a request under concurrency policies; release it when the request ends. */
export interface Lease {
  readonly id: string;
  /** Gives the slots back. Safe to call more than once. */
  release(): Promise<void>;
}
