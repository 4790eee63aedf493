import { durationSchema, redisConnectionSchema, replicasSchema } from '@redkit/core';
import { z } from 'zod';

/** Policy names become part of keys and of the `RateLimit-Policy` header. */
const policyName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1–32 letters, digits, "_" or "-"')
  .optional();

const positiveInt = (max = Number.MAX_SAFE_INTEGER) => z.number().int().positive().max(max);

/**
 * The sliding log keeps one sorted-set entry per admitted unit, so its limit
 * is capped to keep memory per subject bounded (~80 bytes per entry).
 */
export const slidingLogMaxLimit = 10_000;

const fixedWindow = z.object({
  algorithm: z.literal('fixed-window'),
  name: policyName,
  /** Units admitted per window. */
  limit: positiveInt(),
  window: durationSchema({ min: 1 }),
  /**
   * `clock`: windows aligned to the clock (every minute on the minute).
   * `first-hit`: a subject's window starts with its first request.
   * @default "clock"
   */
  align: z.enum(['clock', 'first-hit']).default('clock'),
});

const slidingWindow = z.object({
  algorithm: z.literal('sliding-window'),
  name: policyName,
  limit: positiveInt(),
  window: durationSchema({ min: 1 }),
});

const slidingLog = z.object({
  algorithm: z.literal('sliding-log'),
  name: policyName,
  limit: positiveInt(slidingLogMaxLimit),
  window: durationSchema({ min: 1 }),
});

const tokenBucket = z.object({
  algorithm: z.literal('token-bucket'),
  name: policyName,
  /** Most tokens the bucket holds (the largest burst). */
  capacity: positiveInt(),
  /** Tokens added every `interval`. */
  refillRate: positiveInt(),
  /** @default "1s" */
  interval: durationSchema({ min: 1 }).default(1_000),
});

const gcra = z.object({
  algorithm: z.literal('gcra'),
  name: policyName,
  /** Requests per `period` at the steady rate. */
  limit: positiveInt(),
  period: durationSchema({ min: 1 }),
  /** Requests admitted at once from rest. @default 1 (perfectly smooth) */
  burst: positiveInt().default(1),
});

const concurrency = z.object({
  algorithm: z.literal('concurrency'),
  name: policyName,
  /** Most leases held at once. */
  limit: positiveInt(),
  /** A lease whose holder never releases it (it crashed) expires after this. */
  leaseTtl: durationSchema({ min: 1 }),
});

/** One limit applied to a subject. */
export const policySchema = z.discriminatedUnion('algorithm', [
  fixedWindow,
  slidingWindow,
  slidingLog,
  tokenBucket,
  gcra,
  concurrency,
]);

export type PolicyInput = z.input<typeof policySchema>;
export type Policy = z.output<typeof policySchema> & { name: string };
export type Algorithm = Policy['algorithm'];

/** The most units one request may cost under a policy: more could never be admitted. */
export function policyCapacity(policy: z.output<typeof policySchema>): number {
  switch (policy.algorithm) {
    case 'token-bucket':
      return policy.capacity;
    case 'gcra':
      return policy.burst;
    default:
      return policy.limit;
  }
}

const penaltySchema = z.object({
  /** Denials within `within` that trigger a block. */
  threshold: positiveInt(),
  /** @default "1m" */
  within: durationSchema({ min: 1 }).default(60_000),
  /** First block's length. */
  block: durationSchema({ min: 1 }),
  /** Each further block lasts this many times longer. @default 2 */
  multiplier: z.number().min(1).max(100).default(2),
  /** @default "1d" */
  maxBlock: durationSchema({ min: 1 }).default(86_400_000),
  /** Escalation is forgotten after this long without a block. @default "1d" */
  forgetAfter: durationSchema({ min: 1 }).default(86_400_000),
});

const failureSchema = z.object({
  /**
   * What to do when Redis errors or times out:
   * `open` admits, `closed` denies, `fallback` decides with an in-process
   * limiter of the same policies. @default "open"
   */
  mode: z.enum(['open', 'closed', 'fallback']).default('open'),
  /**
   * With `fallback`: each process enforces this share of every limit, e.g.
   * 0.25 when 4 processes share the traffic. @default 1
   */
  fallbackShare: z.number().positive().max(1).default(1),
  /** Subjects the fallback tracks at most (least recently used are dropped). @default 10000 */
  fallbackMaxSubjects: positiveInt(10_000_000).default(10_000),
});

const deniedCacheSchema = z.object({
  /** Subjects remembered at most. @default 10000 */
  maxSubjects: positiveInt(10_000_000).default(10_000),
});

/** Options of {@link RateLimiter}. */
export const rateLimiterOptionsSchema = z
  .object({
    redis: redisConnectionSchema,
    /** Key prefix: keys are `<namespace>:{<subject>}:…`. @default "ratelimit" */
    namespace: z.string().default('ratelimit'),
    policies: z.array(policySchema).min(1, 'needs at least one policy').max(16),
    /** Denied requests are counted too (the subject keeps paying while it retries). @default false */
    consumeOnDeny: z.boolean().default(false),
    /** Bound on each call to Redis. @default "500ms" */
    timeout: durationSchema({ min: 1, max: 60_000 }).default(500),
    failure: failureSchema.default({ mode: 'open', fallbackShare: 1, fallbackMaxSubjects: 10_000 }),
    /**
     * Lets `block()` deny a subject for a while. Each check then reads the
     * subject's block key first: one more Redis command per check, so it is
     * off unless asked for. A `penalty` turns it on. @default false
     */
    blocks: z.boolean().default(false),
    /** Escalating blocks after repeated denials (turns `blocks` on). @default undefined (off) */
    penalty: penaltySchema.optional(),
    /** Skip Redis for subjects known to be denied until their retry time. @default false */
    deniedCache: z.union([z.literal(false), deniedCacheSchema]).default(false),
    /** Report decisions but admit every request (for trying limits out). @default false */
    dryRun: z.boolean().default(false),
    /**
     * After Redis admits a request, wait until this many replicas acknowledged
     * the check (Redis `WAIT`), so a crash of the master right after cannot
     * lose the count and let the subject in again. When fewer acknowledged
     * within `timeout`, `onShortfall` decides: `deny` the request (decided by
     * `replica-shortfall`; its units stay consumed, a concurrency lease is
     * given back) or `allow` it; either way `result.replicas` reports the
     * count. Costs a second round trip per admitted request, which waits for
     * the replica. @default undefined (no WAIT)
     */
    replicas: replicasSchema(['deny', 'allow'], 'deny').optional(),
  })
  .strict()
  .transform((options, ctx) => {
    const names = new Set<string>();
    const policies = options.policies.map((policy, index) => {
      const name = policy.name ?? `${policy.algorithm}-${index}`;
      if (names.has(name)) {
        ctx.addIssue({ code: 'custom', path: ['policies', index, 'name'], message: `duplicate policy name "${name}"` });
      }
      names.add(name);
      return { ...policy, name } as Policy;
    });
    return { ...options, policies, blocks: options.blocks || options.penalty !== undefined };
  });

export type RateLimiterOptions = z.input<typeof rateLimiterOptionsSchema>;
export type ResolvedRateLimiterOptions = z.output<typeof rateLimiterOptionsSchema>;

/** Subjects are user ids, IPs, API keys …: any non-empty string up to 512 characters. */
export const subjectSchema = z.object({ subject: z.string().min(1, 'must not be empty').max(512) });

export const blockCallSchema = z.object({ duration: durationSchema({ min: 1 }) });

export const limitCallSchema = z
  .object({
    /** Units this request costs. @default 1 */
    cost: positiveInt().default(1),
  })
  .strict()
  .default({ cost: 1 });

export type LimitCallOptions = z.input<typeof limitCallSchema>;
