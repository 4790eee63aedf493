/**
 * `TypedQueue`, the producer side: a BullMQ `Queue` whose `add`/`addBulk`
 * check each job's data against its schema before anything is sent, with a
 * bounded wait and redkit's Redis errors.
 */
import { driverFor, InvalidOptionsError, parseField, parseOptions, TelemetryEmitter, withDeadline } from '@redkit/core';
import { type JobsOptions, Queue } from 'bullmq';
import { errorText, toRedkitError } from './error-mapping.js';
import type { BullmqEvents } from './events.js';
import type { JobData, JobDataInput, JobDefinitions, TypedJob } from './jobs.js';
import { clusterSafePrefix, type TypedQueueOptions, typedQueueOptionsSchema } from './options.js';

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
