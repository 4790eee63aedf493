import { type RedisConnection, RedkitError, TelemetryEmitter } from '@redkit/core';
import {
  type Consumer,
  type MessageContext,
  type QueueStats,
  type StopOptions,
  type StopResult,
  StreamQueue,
} from '@redkit/queue';
import type { WriteBehindLog } from './write-behind.js';
import type { ResolvedFlusherOptions, WriteBehindSink, WriteBehindWrite } from './write-behind-options.js';

/** Telemetry events of a `WriteBehindFlusher`. */
export type WriteBehindEvents = {
  /** The sink stored a batch: `writes` handed to it, `coalesced` older writes of the same keys skipped. */
  flushed: { partition: number; writes: number; coalesced: number };
  /** The sink failed; the writes concerned are retried with backoff (dead-lettered after `maxDeliveries`). */
  'sink-error': { partition: number; writes: number; error: unknown };
};

/** The sink did not settle within `sinkTimeout`: its writes are retried (they may still land: the sink must be idempotent). */
export class SinkTimeoutError extends RedkitError {
  constructor(timeoutMs: number) {
    super('E_CACHE_SINK_TIMEOUT', `the write-behind sink did not settle within ${timeoutMs} ms`);
  }
}

/** A stream message as `write-behind-entry.lua` writes it. */
interface StoredWrite {
  key: string;
  version: number;
  value?: unknown;
  text?: string;
  deleted?: boolean;
}

/** A delivered message waiting for its batch's sink call. */
interface Waiting {
  readonly write: StoredWrite;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Applies a write-behind cache's writes to their source (a database), started
 * by `cache.writeBehindFlusher()`. One @redkit/queue consumer per partition
 * stream, all in one consumer group: any number of flushers share the work,
 * and the writes a crashed flusher held are claimed by another after the
 * visibility timeout.
 *
 * Each read of a partition (up to `batch` writes) becomes one sink call, with
 * repeated writes of a key coalesced to the newest. The writes are
 * acknowledged when the sink resolves; when it throws, the batch is retried
 * write by write (so one bad write does not hold back the others), and each
 * failing write is retried with backoff, then dead-lettered after
 * `maxDeliveries` attempts. Delivery is at least once and not in order across
 * retries and flushers: the sink must skip a write whose version is not newer
 * than what it stored.
 *
 * @example
 * ```ts
 * const flusher = cache.writeBehindFlusher({
 *   group: 'db',
 *   sink: async (writes) => {
 *     for (const { key, value, version } of writes) await db.upsertIfNewer(key, value, version)
 *   },
 * })
 * // on shutdown
 * await flusher.stop()
 * ```
 */
export class WriteBehindFlusher<Value = unknown> {
  /** Typed telemetry: `flushed`, `sink-error`. */
  readonly events: TelemetryEmitter<WriteBehindEvents>;
  /**
   * The partition streams as @redkit/queue queues, for operating them:
   * `stats()` (lag, pending, dead letters), `health()`, `deadLetters.replay()`.
   */
  readonly queues: readonly StreamQueue[];
  /** Resolves once every partition's consumer group exists. */
  readonly ready: Promise<void>;
  private readonly consumers: Consumer<unknown>[];
  private readonly sink: WriteBehindSink<Value>;
  private readonly log: WriteBehindLog;
  private readonly sinkTimeout: number;
  /** Sink-call timers, cleared by `stop` (a sink still hanging then is abandoned with its writes pending). */
  private readonly sinkTimers = new Set<NodeJS.Timeout>();
  /** Per partition: writes delivered and not yet handed to the sink. */
  private readonly batches: Waiting[][];
  /** Per partition: whether a sink call is scheduled or running (one at a time per partition). */
  private readonly draining: boolean[];
  private trimTimer: NodeJS.Timeout | undefined;
  private trimming: Promise<unknown> = Promise.resolve();
  private stopping: Promise<StopResult> | undefined;

  /** @internal Use `cache.writeBehindFlusher()`. */
  constructor(
    redis: RedisConnection,
    log: WriteBehindLog,
    options: ResolvedFlusherOptions,
    timeout: number | undefined,
  ) {
    this.events = new TelemetryEmitter<WriteBehindEvents>('cache');
    this.sink = options.sink as WriteBehindSink<Value>;
    this.log = log;
    this.sinkTimeout = options.sinkTimeout;
    this.queues = log.streams.map(
      (stream) => new StreamQueue({ redis, stream, namespace: log.queueNamespace, ...(timeout ? { timeout } : {}) }),
    );
    this.batches = this.queues.map(() => []);
    this.draining = this.queues.map(() => false);
    this.consumers = this.queues.map((queue, partition) =>
      queue.consume((message, context) => this.enqueue(partition, message as StoredWrite, context), {
        group: options.group,
        ...(options.consumer === undefined ? {} : { consumer: options.consumer }),
        // A read of up to `batch` entries is handled as one sink call; the next read waits for it.
        concurrency: options.batch,
        batch: options.batch,
        blockMs: options.blockMs,
        visibilityTimeout: options.visibilityTimeout,
        ...(options.claimInterval === undefined ? {} : { claimInterval: options.claimInterval }),
        maxDeliveries: options.maxDeliveries,
        backoff: options.backoff,
      }),
    );
    this.ready = Promise.all(this.consumers.map((consumer) => consumer.ready)).then(() => {
      // Trimming only once the group exists: before that, a group-aware trim would see no reader to protect.
      const interval = options.trimInterval;
      if (interval !== false && this.stopping === undefined) this.scheduleTrim(interval);
    });
  }

  /** The consumer group's state per partition (length, lag, pending, dead letters), in partition order. */
  stats(): Promise<QueueStats[]> {
    return Promise.all(this.queues.map((queue) => queue.stats()));
  }

  /**
   * Stops reading, waits up to `deadlineMs` for the sink calls in flight, and
   * closes the consumers' connections. Writes not acknowledged stay pending and
   * are claimed by another flusher after the visibility timeout: nothing is lost.
   */
  stop(options?: StopOptions): Promise<StopResult> {
    this.stopping ??= (async () => {
      clearTimeout(this.trimTimer);
      await this.trimming;
      const results = await Promise.all(this.consumers.map((consumer) => consumer.stop(options)));
      for (const timer of this.sinkTimers) clearTimeout(timer);
      this.sinkTimers.clear();
      return {
        finished: results.reduce((sum, result) => sum + result.finished, 0),
        unfinished: results.reduce((sum, result) => sum + result.unfinished, 0),
      };
    })();
    return this.stopping;
  }

  /** A delivered write joins its partition's batch; it is acknowledged when the batch's sink call succeeds. */
  private enqueue(partition: number, write: StoredWrite, _context: MessageContext): Promise<void> {
    return new Promise((resolve, reject) => {
      (this.batches[partition] as Waiting[]).push({ write, resolve, reject });
      if (this.draining[partition]) return;
      this.draining[partition] = true;
      // The consumer starts every entry of one read in the same tick: they form one batch.
      setImmediate(() => void this.drain(partition));
    });
  }

  /**
   * One sink call at a time per partition, so this flusher hands a key's
   * writes to the sink in stream order; writes delivered meanwhile form the
   * next batch.
   */
  private async drain(partition: number): Promise<void> {
    try {
      while ((this.batches[partition] as Waiting[]).length > 0) {
        const waiting = this.batches[partition] as Waiting[];
        this.batches[partition] = [];
        await this.flush(partition, waiting);
      }
    } finally {
      this.draining[partition] = false;
    }
  }

  /** Hands one batch to the sink; never throws (failures reject the writes' handlers, which retries them). */
  private async flush(partition: number, waiting: readonly Waiting[]): Promise<void> {
    // The newest write of each key; the older ones are acknowledged with it.
    const latest = new Map<string, { write: WriteBehindWrite<Value>; waiting: Waiting[] }>();
    const settle = (group: Waiting[], error?: unknown) => {
      for (const item of group) {
        if (error === undefined) item.resolve();
        else item.reject(error);
      }
    };
    for (const item of waiting) {
      let write: WriteBehindWrite<Value>;
      try {
        write = await this.decode(item.write);
      } catch (error) {
        // Not a write this cache can read (another serializer, a changed schema): retried, then dead-lettered for inspection.
        item.reject(error);
        continue;
      }
      const known = latest.get(write.key);
      if (!known) latest.set(write.key, { write, waiting: [item] });
      else {
        known.waiting.push(item);
        if (write.version > known.write.version) known.write = write;
      }
    }
    if (latest.size === 0) return;
    const groups = [...latest.values()];
    const writes = groups.map((group) => group.write);
    try {
      await this.callSink(writes, partition);
    } catch (error) {
      this.events.emit('sink-error', { partition, writes: writes.length, error });
      // A sink that hangs is not retried write by write: each would hang as long.
      if (groups.length === 1 || error instanceof SinkTimeoutError) {
        for (const group of groups) settle(group.waiting, error);
        return;
      }
      // One write may be the cause: try each alone, so the others are not held back with it.
      for (const group of groups) {
        try {
          await this.callSink([group.write], partition);
          settle(group.waiting);
        } catch (single) {
          settle(group.waiting, single);
        }
      }
      return;
    }
    this.events.emit('flushed', { partition, writes: writes.length, coalesced: waiting.length - writes.length });
    for (const group of groups) settle(group.waiting);
  }

  /** The sink, bounded by `sinkTimeout` (the call itself may still finish later: writes are idempotent). */
  private callSink(writes: readonly WriteBehindWrite<Value>[], partition: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.sinkTimers.delete(timer);
        reject(new SinkTimeoutError(this.sinkTimeout));
      }, this.sinkTimeout);
      this.sinkTimers.add(timer);
      const done = () => {
        clearTimeout(timer);
        this.sinkTimers.delete(timer);
      };
      Promise.resolve()
        .then(() => this.sink(writes, { partition }))
        .then(
          () => {
            done();
            resolve();
          },
          (error: unknown) => {
            done();
            reject(error);
          },
        );
    });
  }

  /** The write as the sink gets it: the value decoded and, with a schema, the schema's output. */
  private async decode(stored: StoredWrite): Promise<WriteBehindWrite<Value>> {
    if (typeof stored !== 'object' || stored === null || typeof stored.key !== 'string') {
      throw new TypeError('not a write-behind message');
    }
    const { key, version } = stored;
    if (stored.deleted === true) return { key, version, value: undefined, deleted: true };
    const raw = typeof stored.text === 'string' ? this.log.serializer.deserialize(stored.text) : stored.value;
    const checked = await this.log.validate(raw);
    if (!checked.ok) throw new TypeError(`the value fails the cache's schema: ${checked.issues}`);
    return { key, version, value: checked.value as Value, deleted: false };
  }

  private scheduleTrim(ms: number): void {
    this.trimTimer = setTimeout(() => {
      // Group-aware: only writes every group acknowledged are removed.
      this.trimming = Promise.all(this.queues.map((queue) => queue.trim({ maxLen: 0 }).catch(() => 0))).then(() => {
        if (this.stopping === undefined) this.scheduleTrim(ms);
      });
    }, ms);
  }
}
