import type { DecidedBy } from './result.js';

/** Telemetry events of a {@link RateLimiter}. */
export type RateLimitEvents = {
  /** A request was admitted. */
  allowed: { subject: string; cost: number; decidedBy: DecidedBy; durationMs: number };
  /** A request was denied (in dry-run mode: would have been). */
  denied: {
    subject: string;
    cost: number;
    decidedBy: DecidedBy;
    /** Names of the policies that denied it (empty when the subject is blocked). */
    policies: string;
    retryAfterMs: number;
    dryRun: boolean;
    durationMs: number;
  };
  /** Repeated denials blocked the subject (penalty). */
  blocked: { subject: string; blockMs: number };
  /** Redis failed or timed out; the failure mode decided. */
  'redis-failure': { subject: string; reason: 'timeout' | 'unavailable'; decidedBy: DecidedBy; error: string };
};
