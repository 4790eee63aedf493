import type { TypedSchemaOptions } from '@redkit/core';
import { durationSchema, patternOptions, streamNameSchema, textSchema, zodSchemaOption } from '@redkit/core';
import { z } from 'zod';

/** A zod schema of the queue's messages (any schema whose output is JSON-serializable). */
export type MessageSchema = z.ZodType;

/** The message type a queue hands to handlers: the schema's output, or `unknown` without a schema. */
export type MessageOf<Schema> = Schema extends z.ZodType ? z.output<Schema> : unknown;

/** The message type a queue accepts on `add`: the schema's input, or any JSON value without a schema. */
export type MessageInputOf<Schema> = Schema extends z.ZodType ? z.input<Schema> : unknown;

/** Options of `new StreamQueue()`; `schema` types the messages. */
export type StreamQueueOptions<Schema extends MessageSchema | undefined = undefined> = TypedSchemaOptions<
  typeof streamQueueOptionsSchema,
  Schema
>;

const day = 86_400_000;
const maxUint64 = 2n ** 64n;

const schemaSchema = zodSchemaOption<MessageSchema>();

/** Options of `new StreamQueue()`. */
export const streamQueueOptionsSchema = z
  .object({
    ...patternOptions('queue'),
    /** The stream's name; all of its keys share the hash tag `{<stream>}`. */
    stream: streamNameSchema,
    /** Zod schema of a message, checked on `add` and again before a handler sees it. */
    schema: schemaSchema.optional(),
    /** How long an idempotency key is remembered after its first `add`. @default "24h" */
    idempotencyTtl: durationSchema({ min: 1, max: 365 * day }).default(day),
    /**
     * Trims the stream automatically as this instance adds to it: after every
     * `every` entries it adds, it runs the group-aware trim of
     * {@link StreamQueue.trim} with `maxLen` and/or `maxAge`. Like `trim`, it
     * never removes an entry that a group has pending or has not read yet;
     * and while the stream has no consumer group at all it removes nothing
     * (no consumer has started yet, so nothing has been read).
     * @example `{ maxLen: 100_000, every: 1_000 }`
     */
    trim: z
      .object({
        /** Keep at most this many entries (fewer only where no group needs them). */
        maxLen: z.number().int('must be a whole number').min(0).optional(),
        /** Drop entries older than this (by their id's time). */
        maxAge: durationSchema({ min: 0, max: 10 * 365 * day }).optional(),
        /** Entries added by this instance between two trims. @default 100 */
        every: z.number().int('must be a whole number').min(1).max(1_000_000).default(100),
      })
      .strict()
      .refine((trim) => trim.maxLen !== undefined || trim.maxAge !== undefined, {
        message: 'give maxLen and/or maxAge',
      })
      .optional(),
  })
  .strict();

export type ResolvedStreamQueueOptions = z.output<typeof streamQueueOptionsSchema>;

/** Options of `add`. */
export const addOptionsSchema = z
  .object({
    /**
     * Adds the message only once per key (for `idempotencyTtl`): a repeated
     * key returns the first add's id and adds nothing.
     */
    idempotencyKey: textSchema(512).optional(),
    /**
     * The entry's stream id (`"<ms>-<seq>"`) instead of one the server picks;
     * it must be above the stream's last id.
     */
    id: z
      .string({ message: 'must be a string' })
      .regex(/^\d{1,20}-\d{1,20}$/, 'must be a stream entry id such as "1700000000000-1"')
      .refine((id) => {
        // zod runs this even after the regex failed: that issue is the one to report.
        if (!/^\d{1,20}-\d{1,20}$/.test(id)) return true;
        const [ms, seq] = id.split('-').map((part) => BigInt(part)) as [bigint, bigint];
        return ms < maxUint64 && seq < maxUint64 && (ms > 0n || seq > 0n);
      }, 'must be above 0-0, with both parts below 2^64')
      .optional(),
  })
  .strict();
export type AddOptions = z.input<typeof addOptionsSchema>;

/** Options of `addMany`. */
export const addManyOptionsSchema = z
  .object({
    /**
     * Each message's idempotency key (or `undefined` for none): a key seen
     * before (within `idempotencyTtl`, or earlier in the same call) adds
     * nothing and returns the first add's id, as `add` does.
     */
    idempotencyKey: z
      .custom<(message: never, index: number) => string | undefined>(
        (value) => typeof value === 'function',
        'must be a function (message, index) => string | undefined',
      )
      .optional(),
  })
  .strict();
/** Options of `addMany`; `Message` is the queue's input message type. */
export type AddManyOptions<Message = unknown> = {
  /** Each message's idempotency key, or `undefined` for a message without one. */
  idempotencyKey?: (message: Message, index: number) => string | undefined;
};

/** Retry backoff: `initial * 2^(attempt - 1)`, capped at `max`, of which a `jitter` fraction is random. */
export const backoffSchema = z
  .object({
    /** Delay after the first failed attempt. @default "1s" */
    initial: durationSchema({ min: 0, max: 7 * day }).default(1_000),
    /** Longest delay. @default "5m" */
    max: durationSchema({ min: 0, max: 30 * day }).default(300_000),
    /**
     * Fraction of each delay that is random (0: exact, 1: anywhere from 0 to
     * the delay). The delay is `d × (1 − jitter × random)`, so with the default
     * the gaps between attempts still grow. @default 0.5
     */
    jitter: z.number().min(0).max(1).default(0.5),
  })
  .strict()
  .superRefine((backoff, ctx) => {
    if (backoff.max < backoff.initial) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'must be at least `initial`' });
    }
  });

/**
 * What throttling needs of a semaphore: @redkit/lock's `Semaphore` fits
 * (`tryAcquire` resolves a permit or null when all are taken).
 */
export interface ThrottleSemaphore {
  tryAcquire(resource: string): Promise<{ release(): Promise<unknown> } | null>;
}

// Duck-typed: @redkit/lock is not a dependency, and another copy of it must work too.
const semaphoreSchema = z.custom<ThrottleSemaphore>(
  (value) =>
    typeof value === 'object' && value !== null && typeof (value as ThrottleSemaphore).tryAcquire === 'function',
  'must be a semaphore with tryAcquire(resource), e.g. Semaphore from @redkit/lock',
);

/** Throttling: a permit of a shared semaphore is needed to run a handler. */
export const throttleSchema = z
  .object({
    /** The semaphore that protects the shared resource (e.g. `new Semaphore({ redis, limit: 2, ttl: '1m' })`). */
    semaphore: semaphoreSchema,
    /** The semaphore's resource name. */
    resource: z.string({ message: 'must be a string' }).min(1, 'must not be empty'),
    /**
     * Delay before a message that found no free permit is delivered again; it
     * grows with the throttles in a row and does not count as an attempt.
     * @default { initial: 100, max: 5000, jitter: 0.5 }
     */
    backoff: backoffSchema.default({ initial: 100, max: 5_000, jitter: 0.5 }),
  })
  .strict();

/** Options of `consume`. */
export const consumeOptionsSchema = z
  .object({
    /** The consumer group; created (with the stream) on first use. */
    group: streamNameSchema,
    /** This consumer's name, unique within the group. @default a random name */
    consumer: streamNameSchema.optional(),
    /** Messages handled at once by this consumer. @default 1 */
    concurrency: z.number().int('must be a whole number').min(1).max(10_000).default(1),
    /** Most messages read per XREADGROUP. @default `concurrency` */
    batch: z.number().int('must be a whole number').min(1).max(10_000).optional(),
    /** How long one blocking read waits for new messages. @default "2s" */
    blockMs: durationSchema({ min: 1, max: 60_000 }).default(2_000),
    /** Attempts of a message before it goes to the dead letters. @default 5 */
    maxDeliveries: z.number().int('must be a whole number').min(1).max(1_000).default(5),
    /** Delay between attempts. */
    backoff: backoffSchema.default({ initial: 1_000, max: 300_000, jitter: 0.5 }),
    /**
     * A message pending (unacknowledged) this long without a heartbeat is
     * taken over by another consumer of the group, which counts as a delivery.
     * A consumer busy on a message renews its claim every third of this.
     * @default "30s"
     */
    visibilityTimeout: durationSchema({ min: 10, max: day }).default(30_000),
    /** How often this consumer looks for stuck messages. @default half the visibility timeout */
    claimInterval: durationSchema({ min: 10, max: day }).optional(),
    /** How often this consumer moves due retries back onto the stream (sooner when one is due sooner). @default "1s" */
    promoteInterval: durationSchema({ min: 10, max: day }).default(1_000),
    /**
     * Protects a shared resource (a database) from the workers: each handler
     * runs only with a permit of `throttle.semaphore`; when none is free the
     * message is put back with backoff instead of blocking the worker. The
     * semaphore's lease (`ttl`) must outlast a handler.
     */
    throttle: throttleSchema.optional(),
    /** Where a new group starts: `"0"` (every message in the stream) or `"$"` (only new ones). @default "0" */
    startId: z.enum(['0', '$']).default('0'),
  })
  .strict();
export type ConsumeOptions = z.input<typeof consumeOptionsSchema>;
export type ResolvedConsumeOptions = z.output<typeof consumeOptionsSchema>;

/** Options of `stop`. */
export const stopOptionsSchema = z
  .object({
    /** Longest wait for in-flight handlers; unfinished messages stay pending and are claimed by others. @default "30s" */
    deadlineMs: durationSchema({ min: 0, max: day }).default(30_000),
  })
  .strict();
export type StopOptions = z.input<typeof stopOptionsSchema>;

/** Options of `deadLetters.list`. */
export const listDeadOptionsSchema = z
  .object({
    /** Most dead letters returned, oldest first. @default 100 */
    count: z.number().int('must be a whole number').min(1).max(10_000).default(100),
    /** List dead letters after this id (paging). */
    after: z.string().optional(),
  })
  .strict();
export type ListDeadOptions = z.input<typeof listDeadOptionsSchema>;

/** Options of `trim`: any combination of bounds; the entries below the highest one go, unless a group still needs them. */
export const trimOptionsSchema = z
  .object({
    /** Keep at most this many entries. */
    maxLen: z.number().int('must be a whole number').min(0).optional(),
    /** Drop entries older than this (by their id's time). */
    maxAge: durationSchema({ min: 0, max: 10 * 365 * day }).optional(),
    /** Drop entries whose id is below this one. */
    minId: z
      .string({ message: 'must be a string' })
      .regex(/^\d+-\d+$/, 'must be a stream entry id such as "1700000000000-0"')
      .optional(),
  })
  .strict()
  .refine((options) => options.maxLen !== undefined || options.maxAge !== undefined || options.minId !== undefined, {
    message: 'give at least one of maxLen, maxAge, minId',
  });
export type TrimOptions = z.input<typeof trimOptionsSchema>;

/** Thresholds of `health`; a bound left out is not checked. */
export const healthOptionsSchema = z
  .object({
    /** Most age of a group's oldest pending entry. @default "5m" */
    maxPendingAge: durationSchema({ min: 0, max: 365 * day }).default(300_000),
    /** Most entries a group may have left to read. */
    maxLag: z.number().int('must be a whole number').min(0).optional(),
    /** Most dead letters. @default 0 */
    maxDead: z.number().int('must be a whole number').min(0).default(0),
  })
  .strict();
export type HealthOptions = z.input<typeof healthOptionsSchema>;
