import { durationSchema, redisConnectionSchema, replicasSchema } from '@redkit/core';
import { z } from 'zod';
import { positiveInt } from './algorithms/algorithm.js';
import { type Policy, policySchema } from './algorithms/index.js';

export {
  type Algorithm,
  type Policy,
  type PolicyInput,
  policyCapacity,
  policySchema,
  slidingLogMaxLimit,
} from './algorithms/index.js';

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
