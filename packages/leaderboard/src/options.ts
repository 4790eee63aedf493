import { durationSchema, patternOptions, type TypedSchemaOptions, zodSchemaOption } from '@redkit/core';
import { z } from 'zod';
import { isTimeZone } from './time-zone.js';

/** A zod schema for member metadata. Values are stored as JSON, so use JSON-compatible types. */
export type MetadataSchema = z.ZodType;

/** The metadata type a schema produces (what reads return). */
export type MetadataOf<Schema> = Schema extends z.ZodType ? z.output<Schema> : never;

/** The metadata type a schema accepts (what `submit` takes). */
export type MetadataInputOf<Schema> = Schema extends z.ZodType ? z.input<Schema> : never;

export const periodSchema = z.enum(['all-time', 'daily', 'weekly', 'monthly']);
export const rollingPeriodSchema = z.enum(['daily', 'weekly', 'monthly']);
export const policySchema = z.enum(['best', 'increment', 'replace']);
export const rankStyleSchema = z.enum(['ordinal', 'competition', 'dense']);

/** How a submit changes a member's score: keep the better one, add to it, or overwrite it. */
export type UpdatePolicy = z.infer<typeof policySchema>;

/**
 * How equal scores are ranked: `ordinal` 1, 2, 3, 4 (ties in arrival order),
 * `competition` 1, 2, 2, 4, `dense` 1, 2, 2, 3.
 */
export type RankStyle = z.infer<typeof rankStyleSchema>;

/** Longest member name accepted, in characters. */
export const maxMemberLength = 1024;
/** Most entries one read returns. */
export const maxReadSize = 1000;

const day = 86_400_000;

const metadataSchemaSchema = zodSchemaOption<MetadataSchema>();

const clockSchema = z.custom<() => number>((value) => typeof value === 'function', {
  message: 'must be a function returning ms since the epoch',
});

/** Options of `new Leaderboard()`. */
export const leaderboardOptionsSchema = z
  .object({
    ...patternOptions('leaderboard'),
    /** The leaderboard's name; its hash tag, so all its keys share one cluster slot. */
    name: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
    /** `desc`: higher scores rank first; `asc`: lower scores rank first (lap times). @default "desc" */
    order: z.enum(['desc', 'asc']).default('desc'),
    /** Default update policy of `submit`. @default "best" */
    policy: policySchema.default('best'),
    /** Equal scores: the member who reached the score `first` ranks first, or the `last` one. @default "first" */
    ties: z.enum(['first', 'last']).default('first'),
    /**
     * Default rank style of reads. `dense` also keeps an index of distinct
     * scores beside each board (one entry per distinct score). @default "ordinal"
     */
    rankStyle: rankStyleSchema.default('ordinal'),
    /**
     * Largest score accepted (in absolute value). Scores and tie order share
     * the 53 exact bits of a double: a smaller maxScore leaves more room for
     * ties. Must not change (beyond its bit width) while data exists.
     * @default 2147483647
     */
    maxScore: z
      .number()
      .positive()
      .finite()
      .default(2 ** 31 - 1),
    /** Decimal places kept (scores are stored as whole multiples of 10^-decimals). @default 0 */
    decimals: z.number().int().min(0).max(6).default(0),
    /** Most period boards one `sum` combination may add up (rounded up to a power of two). @default 32 */
    maxCombinedPeriods: z.number().int().min(1).max(1024).default(32),
    /** The boards every submit updates; reads use the first unless told otherwise. @default ["all-time"] */
    periods: z
      .array(periodSchema)
      .min(1, 'must list at least one period')
      .refine((periods) => new Set(periods).size === periods.length, 'must not list a period twice')
      .default(['all-time']),
    /** Time zone whose calendar cuts the periods (IANA name). @default "UTC" */
    timeZone: z.string().refine(isTimeZone, 'must be an IANA time zone such as "Europe/Paris" or "UTC"').default('UTC'),
    /** First day of a week: 0 = Sunday, 1 = Monday … 6 = Saturday. @default 1 */
    weekStartsOn: z.number().int().min(0).max(6).default(1),
    /**
     * How long a period board is kept after its period ended (then Redis
     * expires it). @default { daily: "35d", weekly: "91d", monthly: "366d" }
     */
    retention: z
      .object({
        daily: durationSchema({ min: 0, max: 3660 * day }).default(35 * day),
        weekly: durationSchema({ min: 0, max: 3660 * day }).default(91 * day),
        monthly: durationSchema({ min: 0, max: 3660 * day }).default(366 * day),
      })
      .strict()
      .default({ daily: 35 * day, weekly: 91 * day, monthly: 366 * day }),
    /** How long a combined board is cached by default. @default "10s" */
    combineCache: durationSchema({ min: 1, max: day }).default(10_000),
    /** Zod schema of member metadata, stored in a hash beside the boards and returned with reads. */
    metadata: metadataSchemaSchema.optional(),
    /**
     * Clock deciding which period a submit or read falls in (ms since the
     * epoch). By default the Redis server's clock decides: submits are checked
     * against it. An injected clock is trusted as is (tests, backfills).
     */
    clock: clockSchema.optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    const maxLevel = Math.floor(options.maxScore * 10 ** options.decimals + 1e-9);
    if (maxLevel < 1) {
      ctx.addIssue({ code: 'custom', path: ['maxScore'], message: `must be at least 10^-${options.decimals}` });
      return;
    }
    const scoreBits = maxLevel.toString(2).length;
    const guardBits = Math.ceil(Math.log2(options.maxCombinedPeriods));
    if (scoreBits + guardBits > 52) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxScore'],
        message:
          `needs ${scoreBits} bits, which with ${guardBits} bits for combining ${options.maxCombinedPeriods} periods ` +
          `leaves none of the 53 exact bits of a double for the tie order; use at most ${2 ** (52 - guardBits) - 1} ` +
          `units (maxScore × 10^decimals), or lower maxCombinedPeriods`,
      });
    }
  });

/** Options of `new Leaderboard()`; `metadata` types the members' metadata. */
export type LeaderboardOptions<Schema extends MetadataSchema | undefined = undefined> = TypedSchemaOptions<
  typeof leaderboardOptionsSchema,
  Schema,
  'metadata'
>;
export type ResolvedLeaderboardOptions = z.output<typeof leaderboardOptionsSchema>;

export const memberSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(maxMemberLength, `must be at most ${maxMemberLength} characters`);

const instantSchema = z.union([z.date(), z.number(), z.string()]);

/** Which board a call reads or changes. */
export const boardOptionsSchema = z.strictObject({
  /** The period's board. @default the leaderboard's first period */
  period: periodSchema.optional(),
  /** An instant inside the wanted period (`Date`, ms, or a `YYYY-MM-DD` day). @default now */
  at: instantSchema.optional(),
});

/** Options of reads. */
export const readOptionsSchema = boardOptionsSchema
  .extend({
    /** Rank style of this read. @default the leaderboard's `rankStyle` */
    rankStyle: rankStyleSchema.optional(),
    /** Return members' metadata (needs a `metadata` schema). @default true when there is a schema */
    metadata: z.boolean().optional(),
  })
  .strict();

/** Options of `submit`. */
export const submitOptionsSchema = z
  .object({
    /** Update policy of this submit. @default the leaderboard's `policy` */
    policy: policySchema.optional(),
    /** The member's metadata, validated by the leaderboard's schema; replaces what was stored. */
    metadata: z.unknown().optional(),
  })
  .strict();

/** Options of `combine`. */
export const combineOptionsSchema = z
  .object({
    /** Which period boards to combine. */
    period: rollingPeriodSchema,
    /** An instant in the first period (`Date`, ms, or a `YYYY-MM-DD` day). */
    from: instantSchema,
    /** An instant in the last period (inclusive). */
    to: instantSchema,
    /**
     * `sum` adds the scores of every period; `best` keeps each member's best
     * period score. @default "sum" for the increment policy, otherwise "best"
     */
    aggregate: z.enum(['sum', 'best']).optional(),
    /** How long the combined board is cached. @default the leaderboard's `combineCache` */
    cache: durationSchema({ min: 1, max: day }).optional(),
  })
  .strict();

/** Options of `export`. */
export const exportOptionsSchema = boardOptionsSchema
  .extend({
    /** Members fetched per round trip (ZSCAN COUNT). @default 500 */
    batch: z.number().int().min(1).max(10_000).optional(),
    /** Include metadata. @default true when there is a schema */
    metadata: z.boolean().optional(),
  })
  .strict();

export type BoardOptions = z.input<typeof boardOptionsSchema>;
export type ReadOptions = z.input<typeof readOptionsSchema>;
export type CombineOptions = z.input<typeof combineOptionsSchema>;
export type ExportOptions = z.input<typeof exportOptionsSchema>;
/** Options of `submit`; `metadata` is typed by the leaderboard's schema. */
export type SubmitOptions<Metadata = never> = Omit<z.input<typeof submitOptionsSchema>, 'metadata'> & {
  metadata?: Metadata;
};
