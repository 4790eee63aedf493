import { durationSchema, streamNameSchema } from '@redkit/core';
import { backoffSchema } from '@redkit/queue';
import { z } from 'zod';

const day = 86_400_000;

/**
 * `writeBehind` of `new Cache()`: turns on `cache.writeBehind(key, value)`.
 * The cache then keeps each key under its partition's hash tag
 * (`<namespace>:{<stream>-<partition>}:e:<key>`) so the entry and the stream
 * that records its write share a cluster slot; the partition is a stable hash
 * of the key (`partitionOf` of @redkit/queue).
 */
export const writeBehindSchema = z
  .object({
    /**
     * Streams the writes are spread over; each is one cluster slot, so use at
     * least as many as masters. Fixed for the life of a namespace: another
     * count puts keys under other slots (a cold cache) and leaves the old
     * streams to be drained by a flusher with the old count. @default 8
     */
    partitions: z.number().int('must be a whole number').min(1).max(1_024).default(8),
    /**
     * Base name of the partition streams (`<stream>-0` …), kept under the
     * queue namespace `<namespace>:write-behind`. @default "writes"
     */
    stream: streamNameSchema.default('writes'),
  })
  .strict();
export type WriteBehindOptions = z.input<typeof writeBehindSchema>;
export type ResolvedWriteBehindOptions = z.output<typeof writeBehindSchema>;

/**
 * What the flusher hands to the sink, per write. Each write carries the
 * version the cache gave it; the sink must skip a write whose version is not
 * newer than the one it stored for the key (see the docs).
 */
export interface WriteBehindWrite<Value = unknown> {
  /** The application key. */
  readonly key: string;
  /** The write's version: grows with every write of the key. */
  readonly version: number;
  /** The value written; undefined for a delete. */
  readonly value: Value | undefined;
  /** True for `writeBehindDelete`. */
  readonly deleted: boolean;
}

/** Where the flusher persists writes (a database); resolve when they are durable there, throw to retry them. */
export type WriteBehindSink<Value = unknown> = (
  writes: readonly WriteBehindWrite<Value>[],
  context: { readonly partition: number },
) => unknown;

const sinkSchema = z.custom<WriteBehindSink>(
  (value) => typeof value === 'function',
  'must be a function (writes) => Promise<void>',
);

/** Options of `cache.writeBehindFlusher()`. */
export const flusherOptionsSchema = z
  .object({
    /** Persists a batch of writes (at most one per key, the newest); must skip writes older than what it has. */
    sink: sinkSchema,
    /** The consumer group; every flusher of the group shares the work. @default "flusher" */
    group: streamNameSchema.default('flusher'),
    /** This flusher's name, unique within the group. @default a random name */
    consumer: streamNameSchema.optional(),
    /** Most writes read from one partition per sink call (before coalescing). @default 100 */
    batch: z.number().int('must be a whole number').min(1).max(10_000).default(100),
    /** How long one blocking read waits for new writes. @default "1s" */
    blockMs: durationSchema({ min: 1, max: 60_000 }).default(1_000),
    /**
     * Writes held this long by a flusher that stopped renewing its claim
     * (crashed, hung, cut off) are taken over by another flusher. @default "30s"
     */
    visibilityTimeout: durationSchema({ min: 10, max: day }).default(30_000),
    /** How often a flusher looks for writes stuck with a dead one. @default half the visibility timeout */
    claimInterval: durationSchema({ min: 10, max: day }).optional(),
    /**
     * A sink call that has not settled after this long fails (its writes are
     * retried), so a hung database does not stall the partition while the
     * flusher keeps renewing its claim. @default "1m"
     */
    sinkTimeout: durationSchema({ min: 1, max: day }).default(60_000),
    /** Attempts of one write before it goes to the partition's dead letters. @default 10 */
    maxDeliveries: z.number().int('must be a whole number').min(1).max(1_000).default(10),
    /** Delay between attempts of a failed write. @default { initial: "1s", max: "5m", jitter: 0.5 } */
    backoff: backoffSchema.default({ initial: 1_000, max: 300_000, jitter: 0.5 }),
    /**
     * How often flushed writes are trimmed from the streams (group-aware: never
     * a write some group still needs); `false` leaves it to you. @default "5s"
     */
    trimInterval: z.union([z.literal(false), durationSchema({ min: 10, max: day })]).default(5_000),
  })
  .strict();
export type FlusherOptions<Value = unknown> = Omit<z.input<typeof flusherOptionsSchema>, 'sink'> & {
  /** Persists a batch of writes (at most one per key, the newest); must skip writes older than what it has. */
  sink: WriteBehindSink<Value>;
};
export type ResolvedFlusherOptions = z.output<typeof flusherOptionsSchema>;
