import { durationSchema, patternNameSchema, patternOptions, textSchema } from '@redkit/core';
import { z } from 'zod';

/** Most tags one `spreadTags` call returns (and most shards of a `ShardedCounter`). */
export const maxSpread = 1024;
/** Longest `base` of `spreadTags`, in characters. */
export const maxBaseLength = 1024;

/** Zod schema of the options of `new HotKeyDetector()` (what the constructor parses). */
export const hotKeyDetectorOptionsSchema = z
  .object({
    /**
     * Counters per row of the count-min sketch. The estimate of a key exceeds
     * its true count by at most `e / width × reads` with probability
     * `1 - e^-depth` (per key; `reads` is `totalReads()`).
     * Memory: `2 × width × depth × 4` bytes.
     * @default 2048
     */
    width: z
      .number()
      .int('must be a whole number')
      .min(16)
      .max(1 << 20, 'must be at most 1048576')
      .default(2048),
    /**
     * Rows of the sketch (hash functions): each `record` reads `depth`
     * counters and raises those below the key's new estimate.
     * @default 4
     */
    depth: z.number().int('must be a whole number').min(1).max(16).default(4),
    /** Most hot keys tracked and reported at once (the top K). @default 64 */
    topK: z.number().int('must be a whole number').min(1).max(10_000).default(64),
    /**
     * Length of "recent": estimates count reads in the last `window` (two
     * rotating windows, the older one weighted by how much of it still
     * overlaps the last `window`).
     * @default "10s"
     */
    window: durationSchema({ min: 10, max: 86_400_000 }).default(10_000),
    /** Reads in the last `window` from which a key is hot. @default 100 */
    threshold: z.number().int('must be a whole number').min(1).default(100),
    /**
     * Also require this share of all reads in the last `window` (0 < share ≤ 1),
     * so "hot" scales with traffic. @default 0 (the threshold alone decides)
     */
    minShare: z
      .number({ message: 'must be a number' })
      .min(0, 'must be between 0 and 1')
      .max(1, 'must be between 0 and 1')
      .default(0),
  })
  .strict();
/** Options of `new HotKeyDetector()`. */
export type HotKeyDetectorOptions = z.input<typeof hotKeyDetectorOptionsSchema>;
/** The options of a `HotKeyDetector` after parsing, defaults applied (`window` in ms). */
export type ResolvedHotKeyDetectorOptions = z.output<typeof hotKeyDetectorOptionsSchema>;

/** Arguments of `spreadTags(base, count)`. */
export const spreadTagsArgsSchema = z
  .object({
    base: textSchema(maxBaseLength),
    count: z
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(maxSpread, `must be at most ${maxSpread}`),
  })
  .strict();

/** Zod schema of the options of `new ShardedCounter()` (what the constructor parses). */
export const shardedCounterOptionsSchema = z
  .object({
    ...patternOptions('counter'),
    /** The counter's name: the base of its shards' spread hash tags. */
    name: patternNameSchema,
    /**
     * Number of shards. Each lands in its own equal share of the slot space, so
     * a multiple of the cluster's master count spreads evenly over the masters.
     * Changing it later changes the shard keys: the old shards are no longer counted.
     * @default 12
     */
    shards: z
      .number({ message: 'must be a number' })
      .int('must be a whole number')
      .min(1)
      .max(maxSpread, `must be at most ${maxSpread}`)
      .default(12),
    /**
     * Each shard expires this long after its first increment (set with
     * `PEXPIRE … NX`, Redis 7.0+), e.g. for a fixed-window count. Shards
     * expire independently, each at its own first-increment time + ttl.
     * @default undefined (shards never expire)
     */
    ttl: durationSchema({ min: 1, max: 365 * 86_400_000 }).optional(),
    /**
     * After each increment, wait until this many replicas acknowledged it
     * (`WAIT`), so a crash of the master right after cannot lose it.
     * @default 0 (acknowledged by the master only: a crash may lose the last writes)
     */
    waitForReplicas: z.number().int('must be a whole number').min(0).max(16).default(0),
    /** How long `WAIT` may take before the increment fails with `NotReplicatedError`. @default "1s" */
    waitTimeout: durationSchema({ min: 1, max: 60_000 }).default(1_000),
  })
  .strict();
/** Options of `new ShardedCounter()`. */
export type ShardedCounterOptions = z.input<typeof shardedCounterOptionsSchema>;
/** The options of a `ShardedCounter` after parsing, defaults applied (durations in ms). */
export type ResolvedShardedCounterOptions = z.output<typeof shardedCounterOptionsSchema>;

/** The amount of `increment(by)`: a safe integer (negative decrements). */
export const incrementSchema = z
  .number({ message: 'must be a number' })
  .refine((value) => Number.isSafeInteger(value), 'must be a safe integer');
