/**
 * `TypedWorker`, the consumer side: a BullMQ `Worker` on its own connection
 * that checks each job's data before its handler runs and the handler's
 * result before the job completes, failing invalid jobs without retries.
 */
import { isCluster, parseOptions, type RedisConnection, TelemetryEmitter } from '@redkit/core';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeIssues, errorText } from './error-mapping.js';
import type { BullmqEvents } from './events.js';
import type { JobDefinitions } from './jobs.js';
import { clusterSafePrefix, type TypedWorkerOptions, typedWorkerOptionsSchema } from './options.js';

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
