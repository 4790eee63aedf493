import { z } from 'zod';
import type { RateLimitAlgorithm } from './algorithm.js';
import { concurrency, schema as concurrencySchema } from './concurrency.js';
import { fixedWindow, schema as fixedWindowSchema } from './fixed-window.js';
import { gcra, schema as gcraSchema } from './gcra.js';
import { slidingLog, schema as slidingLogSchema } from './sliding-log.js';
import { slidingWindow, schema as slidingWindowSchema } from './sliding-window.js';
import { tokenBucket, schema as tokenBucketSchema } from './token-bucket.js';

export type { PolicyLua, Quota, RateLimitAlgorithm, RefundLua } from './algorithm.js';
export { slidingLogMaxLimit } from './sliding-log.js';

/** One limit applied to a subject: one of the registered algorithms' policies. */
export const policySchema = z.discriminatedUnion('algorithm', [
  fixedWindowSchema,
  slidingWindowSchema,
  slidingLogSchema,
  tokenBucketSchema,
  gcraSchema,
  concurrencySchema,
]);

export type PolicyInput = z.input<typeof policySchema>;
/** A policy after defaults, its name resolved. */
export type Policy = z.output<typeof policySchema> & { name: string };
export type Algorithm = Policy['algorithm'];

/** Every algorithm, by the name a policy gives in `algorithm`. */
const algorithms: { readonly [A in Algorithm]: RateLimitAlgorithm<Extract<Policy, { algorithm: A }>> } = {
  'fixed-window': fixedWindow,
  'sliding-window': slidingWindow,
  'sliding-log': slidingLog,
  'token-bucket': tokenBucket,
  gcra,
  concurrency,
};

/** The algorithm of `policy`. */
export function algorithmOf(policy: Pick<Policy, 'algorithm'>): RateLimitAlgorithm<Policy> {
  return algorithms[policy.algorithm] as unknown as RateLimitAlgorithm<Policy>;
}

/** The most units one request may cost under a policy: more could never be admitted. */
export function policyCapacity(policy: Policy): number {
  return algorithmOf(policy).capacity(policy);
}
