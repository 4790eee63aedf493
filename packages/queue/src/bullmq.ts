/**
 * Typed BullMQ jobs: job names with zod schemas for their data and result,
 * checked on add (nothing invalid reaches Redis) and again before and after a
 * handler runs, on a cluster-safe key prefix.
 *
 * @packageDocumentation
 */
import {
  driverFor,
  durationSchema,
  InvalidOptionsError,
  isCluster,
  issuesAt,
  namespaceSchema,
  parseField,
  parseOptions,
  RedisCommandError,
  type RedisConnection,
  RedisUnavailableError,
  RedkitError,
  redisConnectionSchema,
  TelemetryEmitter,
  textSchema,
  withDeadline,
  zodSchemaOption,
} from '@redkit/core';
import {
  type Job,
  type JobsOptions,
  Queue,
  type QueueOptions,
  UnrecoverableError,
  Worker,
  type WorkerOptions,
} from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** A job's schemas: its data and, optionally, the result its handler returns. */
export interface JobDefinition<
  Data extends z.ZodType = z.ZodType,
  Result extends z.ZodType | undefined = z.ZodType | undefined,
> {
  /** Zod schema of the job's data: checked on add and before the handler runs. */
  readonly data: Data;
  /** Zod schema of the handler's result: checked before the job completes. */
  readonly result?: Result;
}

/** The jobs of one queue, by job name. */
export type JobDefinitions = Record<string, JobDefinition>;

/** What `add` accepts as the data of job `Name` (the data schema's input). */
export type JobDataInput<Jobs extends JobDefinitions, Name extends keyof Jobs> = z.input<Jobs[Name]['data']>;
/** The data a handler of job `Name` receives (the data schema's output). */
export type JobData<Jobs extends JobDefinitions, Name extends keyof Jobs> = z.output<Jobs[Name]['data']>;
/** The result schema of job `Name`, or `undefined` when it has none. */
type ResultSchemaOf<Jobs extends JobDefinitions, Name extends keyof Jobs> = [Jobs[Name]['result']] extends [undefined]
  ? undefined
  : NonNullable<Jobs[Name]['result']>;
/** What a handler of job `Name` returns (the result schema's input; anything without a result schema). */
export type JobResultInput<Jobs extends JobDefinitions, Name extends keyof Jobs> =
  ResultSchemaOf<Jobs, Name> extends z.ZodType ? z.input<ResultSchemaOf<Jobs, Name>> : unknown;
/** A completed job's stored result (the result schema's output). */
export type JobResult<Jobs extends JobDefinitions, Name extends keyof Jobs> =
  ResultSchemaOf<Jobs, Name> extends z.ZodType ? z.output<ResultSchemaOf<Jobs, Name>> : unknown;

/** A BullMQ job of `Name`, typed by its schemas. */
export type TypedJob<Jobs extends JobDefinitions, Name extends keyof Jobs & string> = Job<
  JobData<Jobs, Name>,
  JobResult<Jobs, Name>,
  Name
>;

/** Handles one job; its result is checked against the result schema. */
export type JobHandler<Jobs extends JobDefinitions, Name extends keyof Jobs & string> = (
  data: JobData<Jobs, Name>,
  job: TypedJob<Jobs, Name>,
) => JobResultInput<Jobs, Name> | Promise<JobResultInput<Jobs, Name>>;

/** One handler per job name. */
export type JobHandlers<Jobs extends JobDefinitions> = { [Name in keyof Jobs & string]: JobHandler<Jobs, Name> };

/**
 * Declares one job's schemas with their types kept (a typed identity).
 *
 * @example
 * ```ts
 * const jobs = {
 *   'send-email': defineJob({ data: z.object({ to: z.email() }), result: z.object({ id: z.string() }) }),
 * }
 * ```
 */
export function defineJob<Data extends z.ZodType, Result extends z.ZodType | undefined = undefined>(
  definition: JobDefinition<Data, Result>,
): JobDefinition<Data, Result> {
  return definition;
}

/** Telemetry events of a {@link TypedQueue} or {@link TypedWorker}. */
export type BullmqEvents = {
  /** A job was added. */
  added: { queue: string; name: string; jobId: string | undefined; durationMs: number };
  /** A job's data (before its handler) or its handler's result failed the schema: the job failed without retries. */
  invalid: { queue: string; name: string; jobId: string | undefined; stage: 'data' | 'result'; error: string };
  /** A handler finished and its result passed the schema. */
  completed: { queue: string; name: string; jobId: string | undefined; attempt: number; durationMs: number };
  /** A handler failed; `willRetry` when BullMQ will run it again (attempts left, not unrecoverable). */
  failed: {
    queue: string;
    name: string;
    jobId: string | undefined;
    attempt: number;
    error: string;
    willRetry: boolean;
  };
  /** BullMQ reported a connection or processing error (it keeps running). */
  error: { queue: string; error: string };
};

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

function describeIssues(error: z.ZodError, root: string): string {
  return issuesAt([root], error.issues)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
}

/**
 * BullMQ passes on ioredis's errors: a server reply (`ReplyError`) is a
 * refused command, a lost or closed connection an outage. Its own errors (bad
 * job options) are left as they are.
 */
function toRedkitError(error: unknown, what: string): unknown {
  if (error instanceof RedkitError || !(error instanceof Error)) return error;
  if (error.name === 'ReplyError') return new RedisCommandError(what, error.message, { cause: error });
  if (
    /connection|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|writeable|max retries|timed out|Cluster is/i.test(error.message)
  ) {
    return new RedisUnavailableError(`${what}: ${error.message}`, { cause: error });
  }
  return error;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A BullMQ `Queue` whose jobs are typed and checked: `add` parses the data
 * with the job's schema and throws `InvalidOptionsError` naming the field
 * (`data.to`) before anything is sent. The key prefix is `<namespace>:{<name>}`,
 * the hash tag BullMQ needs on a Redis Cluster.
 *
 * @example
 * ```ts
 * const jobs = { 'send-email': defineJob({ data: z.object({ to: z.email() }), result: z.object({ id: z.string() }) }) }
 * const queue = new TypedQueue({ redis, name: 'mail', jobs })
 * await queue.add('send-email', { to: 'ada@example.com' }, { attempts: 3 })
 * ```
 */
export class TypedQueue<Jobs extends JobDefinitions> {
  /** The BullMQ queue name. */
  readonly name: string;
  /** The key prefix given to BullMQ, e.g. `bull:{mail}`; use it for QueueEvents or a FlowProducer. */
  readonly prefix: string;
  /** The underlying BullMQ queue (untyped access, getters, pause/resume, clean …). */
  readonly bullmq: Queue;
  /** Typed telemetry events (see {@link BullmqEvents}). */
  readonly events: TelemetryEmitter<BullmqEvents>;
  private readonly jobs: Jobs;
  private readonly timeoutMs: number;

  constructor(options: TypedQueueOptions<Jobs>) {
    const parsed = parseOptions(typedQueueOptionsSchema, options, 'TypedQueue');
    this.name = parsed.name;
    this.jobs = options.jobs;
    this.prefix = clusterSafePrefix(parsed.namespace, parsed.name);
    this.timeoutMs = parsed.timeout ?? driverFor(parsed.redis).timeoutMs;
    this.events = new TelemetryEmitter<BullmqEvents>('bullmq');
    // A queue only sends short commands, so it shares the caller's client: failing fast when Redis is
    // down (a finite maxRetriesPerRequest) is what a producer wants. BullMQ does not close a shared client.
    this.bullmq = new Queue(this.name, {
      ...(options.queueOptions ?? {}),
      connection: parsed.redis as never,
      prefix: this.prefix,
    });
    this.bullmq.on('error', (error: Error) => this.events.emit('error', { queue: this.name, error: errorText(error) }));
  }

  private encode<Name extends keyof Jobs & string>(name: Name, data: unknown, path: string, context: string) {
    const definition = Object.hasOwn(this.jobs, name) ? this.jobs[name] : undefined;
    if (!definition) {
      throw new InvalidOptionsError(
        [
          {
            path: path.replace(/data$/, 'name'),
            message: `is not a job of this queue (${Object.keys(this.jobs).join(', ')})`,
          },
        ],
        { context },
      );
    }
    return parseField(definition.data, data, path, context) as JobData<Jobs, Name>;
  }

  /**
   * Adds a job after checking its data against the job's schema (the parsed
   * data is stored).
   *
   * @throws InvalidOptionsError naming the field (`data.to`) or an unknown `name`; nothing is sent.
   * @throws RedisUnavailableError when Redis does not answer within `timeout`
   * (the job may still have been stored: give a `jobId` to make a retry safe).
   */
  async add<Name extends keyof Jobs & string>(
    name: Name,
    data: JobDataInput<Jobs, Name>,
    options?: JobsOptions,
  ): Promise<TypedJob<Jobs, Name>> {
    const parsed = this.encode(name, data, 'data', 'TypedQueue.add()');
    const started = performance.now();
    const what = `adding a ${name} job`;
    const job = await withDeadline(this.bullmq.add(name, parsed, options), this.timeoutMs, what).catch(
      (error: unknown) => {
        throw toRedkitError(error, what);
      },
    );
    this.events.emit('added', { queue: this.name, name, jobId: job.id, durationMs: performance.now() - started });
    return job as TypedJob<Jobs, Name>;
  }

  /**
   * Adds several jobs atomically after checking every one (one invalid job
   * rejects them all, naming `jobs.<index>.data.<field>`).
   */
  async addBulk(
    jobs: readonly {
      [Name in keyof Jobs & string]: { name: Name; data: JobDataInput<Jobs, Name>; opts?: JobsOptions };
    }[keyof Jobs & string][],
  ): Promise<TypedJob<Jobs, keyof Jobs & string>[]> {
    const parsed = jobs.map((job, index) => ({
      name: job.name,
      data: this.encode(job.name, job.data, `jobs.${index}.data`, 'TypedQueue.addBulk()'),
      ...(job.opts ? { opts: job.opts } : {}),
    }));
    const started = performance.now();
    const what = `adding ${jobs.length} jobs`;
    const added = await withDeadline(this.bullmq.addBulk(parsed), this.timeoutMs, what).catch((error: unknown) => {
      throw toRedkitError(error, what);
    });
    const durationMs = performance.now() - started;
    for (const job of added) this.events.emit('added', { queue: this.name, name: job.name, jobId: job.id, durationMs });
    return added as TypedJob<Jobs, keyof Jobs & string>[];
  }

  /** Closes the BullMQ queue (the shared client stays open). */
  async close(): Promise<void> {
    await this.bullmq.close();
  }
}

/**
 * The worker's own connection: BullMQ refuses a worker client whose commands
 * give up after a few retries (`maxRetriesPerRequest` must be null), and its
 * blocking reads outlast any short command timeout. With no command timeout,
 * a command in flight when the connection drops must be re-sent: ioredis
 * otherwise drops it without settling it (it counts on the timeout), and the
 * worker's loop waited on it forever. That was seen after a Sentinel
 * failover: no job taken, and `close()` never returned. BullMQ's worker
 * commands are safe to repeat (a marker pop, token-checked job moves).
 */
function workerConnection(client: RedisConnection): RedisConnection {
  const overrides = {
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: true,
  };
  if (isCluster(client)) {
    return client.duplicate(undefined, {
      enableOfflineQueue: true,
      redisOptions: { ...client.options.redisOptions, ...overrides },
    }) as RedisConnection;
  }
  return (client as Redis).duplicate(overrides as never) as RedisConnection;
}

/**
 * A BullMQ `Worker` that runs one typed handler per job name: the job's data
 * is checked against its schema before the handler runs and the handler's
 * result before the job completes. A job that fails either check fails at once
 * without retries (an `UnrecoverableError`) and is reported as `invalid`.
 *
 * @example
 * ```ts
 * const worker = new TypedWorker({
 *   redis, name: 'mail', jobs, concurrency: 10,
 *   handlers: { 'send-email': async ({ to }) => ({ id: await send(to) }) },
 * })
 * await worker.close()
 * ```
 */
export class TypedWorker<Jobs extends JobDefinitions> {
  /** The BullMQ queue name. */
  readonly name: string;
  /** The key prefix given to BullMQ, e.g. `bull:{mail}`. */
  readonly prefix: string;
  /** The underlying BullMQ worker (pause, resume, run, events). */
  readonly bullmq: Worker;
  /** Typed telemetry events (see {@link BullmqEvents}). */
  readonly events: TelemetryEmitter<BullmqEvents>;
  private readonly connection: RedisConnection;

  constructor(options: TypedWorkerOptions<Jobs>) {
    const parsed = parseOptions(typedWorkerOptionsSchema, options, 'TypedWorker');
    this.name = parsed.name;
    this.prefix = clusterSafePrefix(parsed.namespace, parsed.name);
    this.events = new TelemetryEmitter<BullmqEvents>('bullmq');
    const jobs = options.jobs;
    const handlers = options.handlers as unknown as Record<string, (data: unknown, job: Job) => unknown>;
    this.connection = workerConnection(parsed.redis);
    this.connection.on('error', () => {});
    this.bullmq = new Worker(this.name, (job) => this.process(jobs, handlers, job), {
      ...(options.workerOptions ?? {}),
      connection: this.connection as never,
      prefix: this.prefix,
      concurrency: parsed.concurrency,
      autorun: parsed.autorun,
    });
    this.bullmq.on('error', (error: Error) => this.events.emit('error', { queue: this.name, error: errorText(error) }));
  }

  private async process(
    jobs: Jobs,
    handlers: Record<string, (data: unknown, job: Job) => unknown>,
    job: Job,
  ): Promise<unknown> {
    const base = { queue: this.name, name: job.name, jobId: job.id };
    const definition = Object.hasOwn(jobs, job.name) ? jobs[job.name] : undefined;
    const handler = Object.hasOwn(handlers, job.name) ? handlers[job.name] : undefined;
    if (!definition || !handler) {
      const error = `no handler for job "${job.name}"`;
      this.events.emit('invalid', { ...base, stage: 'data', error });
      throw new UnrecoverableError(error);
    }
    const data = definition.data.safeParse(job.data);
    if (!data.success) {
      const error = `the job's data failed the schema: ${describeIssues(data.error, 'data')}`;
      this.events.emit('invalid', { ...base, stage: 'data', error });
      throw new UnrecoverableError(error);
    }
    const attempt = job.attemptsMade + 1;
    const started = performance.now();
    let value: unknown;
    try {
      value = await handler(data.data, job);
    } catch (error) {
      const attempts = job.opts.attempts ?? 1;
      const willRetry = !(error instanceof UnrecoverableError) && attempt < attempts;
      this.events.emit('failed', { ...base, attempt, error: errorText(error), willRetry });
      throw error;
    }
    let result = value;
    if (definition.result) {
      const checked = definition.result.safeParse(value);
      if (!checked.success) {
        const error = `the handler's result failed the schema: ${describeIssues(checked.error, 'result')}`;
        this.events.emit('invalid', { ...base, stage: 'result', error });
        throw new UnrecoverableError(error);
      }
      result = checked.data;
    }
    this.events.emit('completed', { ...base, attempt, durationMs: performance.now() - started });
    return result;
  }

  /** Waits for running jobs (unless `force`), stops the worker and closes its connection. */
  async close(force = false): Promise<void> {
    try {
      await this.bullmq.close(force);
    } finally {
      try {
        await this.connection.quit();
      } catch {
        this.connection.disconnect();
      }
    }
  }
}
