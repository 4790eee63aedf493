/**
 * Options of `TypedQueue` and `TypedWorker`: the zod schemas that check them
 * at construction, their typed forms, and the cluster-safe key prefix both
 * derive from the queue name.
 */
import type { RedisConnection } from '@redkit/core';
import { durationSchema, namespaceSchema, redisConnectionSchema, textSchema, zodSchemaOption } from '@redkit/core';
import type { QueueOptions, WorkerOptions } from 'bullmq';
import { z } from 'zod';
import type { JobDefinitions, JobHandlers } from './jobs.js';

/** BullMQ queue names may not contain `:`; braces would break the hash tag. */
const queueNameSchema = textSchema(200).regex(/^[^:{}\s]+$/, 'must not contain ":", "{", "}" or whitespace');

const zodSchema = zodSchemaOption<z.ZodType>();

const jobsSchema = z
  .record(
    z.string().min(1, 'job names must not be empty'),
    z
      .object(
        { data: zodSchema, result: zodSchema.optional() },
        { message: 'must be { data, result? } of zod schemas' },
      )
      .strict(),
  )
  .refine((jobs) => Object.keys(jobs).length > 0, 'must define at least one job');

const commonShape = {
  redis: redisConnectionSchema,
  /** The BullMQ queue name. */
  name: queueNameSchema,
  /** The jobs this queue carries, by name. */
  jobs: jobsSchema,
  /**
   * Start of the key prefix. BullMQ's keys become `<namespace>:{<name>}:<name>:…`:
   * the `{<name>}` hash tag keeps each queue in one cluster slot, as BullMQ needs,
   * while different queues spread over the masters. @default "bull"
   */
  namespace: namespaceSchema.default('bull'),
};

/** Options of `new TypedQueue()`. */
export const typedQueueOptionsSchema = z
  .object({
    ...commonShape,
    /** Bound on `add`/`addBulk` (a timed-out add may still have been stored; give a `jobId` to make retries safe). @default the client's command timeout */
    timeout: durationSchema({ min: 1, max: 60_000 }).optional(),
    /** Passed to BullMQ's `Queue` (everything but `connection` and `prefix`, which are set here). */
    queueOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Options of `new TypedWorker()`. */
export const typedWorkerOptionsSchema = z
  .object({
    ...commonShape,
    /** One handler per job name. */
    handlers: z.record(
      z.string(),
      z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function'),
    ),
    /** Jobs processed at once. @default 1 */
    concurrency: z.number().int('must be a whole number').min(1).max(10_000).default(1),
    /** Start processing at once; otherwise call `worker.bullmq.run()`. @default true */
    autorun: z.boolean().default(true),
    /** Passed to BullMQ's `Worker` (everything but `connection`, `prefix`, `concurrency`, `autorun`). */
    workerOptions: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    for (const name of Object.keys(options.jobs)) {
      if (!(name in options.handlers))
        ctx.addIssue({ code: 'custom', path: ['handlers', name], message: 'is missing' });
    }
    for (const name of Object.keys(options.handlers)) {
      if (!(name in options.jobs))
        ctx.addIssue({ code: 'custom', path: ['handlers', name], message: 'is not a job of `jobs`' });
    }
  });

/** Options of `new TypedQueue()`, typed by its jobs. */
export interface TypedQueueOptions<Jobs extends JobDefinitions> {
  /** A redkit `connect()` client, an ioredis `Redis` or `Cluster` (5 or 6); used as is (shared, not closed). */
  redis: RedisConnection;
  /** The BullMQ queue name (no `:`, braces or whitespace). */
  name: string;
  /** The jobs this queue carries, by name. */
  jobs: Jobs;
  /** Start of the key prefix `<namespace>:{<name>}`. @default "bull" */
  namespace?: string;
  /** Bound on `add`/`addBulk`. @default the client's command timeout */
  timeout?: number | string;
  /** Passed to BullMQ's `Queue` (everything but `connection` and `prefix`). */
  queueOptions?: Omit<QueueOptions, 'connection' | 'prefix'>;
}

/** Options of `new TypedWorker()`, typed by its jobs. */
export interface TypedWorkerOptions<Jobs extends JobDefinitions> {
  /**
   * A redkit `connect()` client, an ioredis `Redis` or `Cluster` (5 or 6). The
   * worker runs on a duplicate with `maxRetriesPerRequest: null`, no command
   * timeout and re-sending of commands cut off by a reconnect, as BullMQ's
   * blocking reads need (closed by `close()`).
   */
  redis: RedisConnection;
  /** The BullMQ queue name. */
  name: string;
  /** The jobs, by name (the same definitions as the queue's). */
  jobs: Jobs;
  /** One handler per job name. */
  handlers: JobHandlers<Jobs>;
  /** Start of the key prefix `<namespace>:{<name>}`. @default "bull" */
  namespace?: string;
  /** Jobs processed at once. @default 1 */
  concurrency?: number;
  /** Start processing at once. @default true */
  autorun?: boolean;
  /** Passed to BullMQ's `Worker` (everything but `connection`, `prefix`, `concurrency`, `autorun`). */
  workerOptions?: Omit<WorkerOptions, 'connection' | 'prefix' | 'concurrency' | 'autorun'>;
}

/** The key prefix BullMQ gets: the `{<name>}` hash tag keeps one queue's keys in one slot. */
export function clusterSafePrefix(namespace: string, name: string): string {
  return `${namespace}:{${name}}`;
}
