/**
 * `Consumer`, one running member of a consumer group: the read loop, the
 * handler runs with their slots, failures (retry, throttle, dead letter),
 * claiming stuck messages and renewing its own claims, and graceful stop.
 * Reading, acking and retry promotion are in their own files beside it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type CallOptions,
  driverFor,
  parseOptions,
  type RedisConnection,
  type RedisDriver,
  type TelemetryEmitter,
} from '@redkit/core';
import type { QueueEvents } from '../events.js';
import type { MessageSchema, ResolvedConsumeOptions, StopOptions } from '../options.js';
import { stopOptionsSchema } from '../options.js';
import { AckBatcher } from './ack-batcher.js';
import { duplicateForBlocking, streamEntries } from './blocking-read.js';
import { fieldOf } from './entry-fields.js';
import { RetryPromoter } from './retry-promoter.js';
import { claimStuck, extendClaims, failMessage, type RawFields, retireConsumer } from './scripts.js';
import type { StreamQueue } from './stream-queue.js';

/** What a handler learns about the message besides its content. */
export interface MessageContext {
  /** The stream entry id of this delivery (a retry is a new entry). */
  readonly id: string;
  /** Which attempt this is, from 1; counts retries and claims after a timeout. */
  readonly attempt: number;
  /** The consumer group. */
  readonly group: string;
  /** This consumer's name. */
  readonly consumer: string;
  /** The last attempt's error, on a retry. */
  readonly lastError: string | undefined;
}

/**
 * Processes one message. Resolve to acknowledge it; throw (or reject) to have
 * it retried with backoff, and dead-lettered after `maxDeliveries` attempts.
 */
export type Handler<Message> = (message: Message, context: MessageContext) => unknown;

/** Outcome of `stop`. */
export interface StopResult {
  /** Handlers that finished before the deadline. */
  readonly finished: number;
  /** Handlers still running at the deadline: their messages stay pending and are claimed by others after the visibility timeout. */
  readonly unfinished: number;
}

/** Longest error text stored with a retry or a dead letter. */
const maxErrorLength = 4_096;
/** Pause after a failed read, so a Redis outage is not a busy loop. */
const readRetryMs = 250;
/** Most ids renewed per heartbeat call. */
const heartbeatBatch = 500;

/** A placeholder for a task that has not returned its promise yet. */
const settled: Promise<void> = Promise.resolve();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > maxErrorLength ? text.slice(0, maxErrorLength) : text;
}

/**
 * One running consumer of a group, started by `StreamQueue.consume`. It reads
 * with XREADGROUP on its own connection, runs up to `concurrency` handlers at
 * once, and in the background moves due retries back onto the stream, claims
 * messages stuck with dead consumers, and renews its claim on messages it is
 * still processing.
 *
 * @example
 * ```ts
 * const consumer = queue.consume(handle, { group: 'mailers', concurrency: 10, visibilityTimeout: '1m' })
 * process.once('SIGTERM', () => void consumer.stop({ deadlineMs: 10_000 }))
 * ```
 */
export class Consumer<Message> {
  /** This consumer's name within the group. */
  readonly name: string;
  /** The consumer group. */
  readonly group: string;
  /** Resolves once the group exists (or the consumer was stopped before). */
  readonly ready: Promise<void>;
  private readonly queue: StreamQueue<MessageSchema | undefined>;
  private readonly handler: Handler<Message>;
  private readonly options: ResolvedConsumeOptions;
  private readonly driver: RedisDriver;
  private readonly events: TelemetryEmitter<QueueEvents>;
  private readonly call: CallOptions | undefined;
  private readonly connection: RedisConnection;
  private readonly blocking: RedisDriver;
  private readonly inflight = new Map<string, Promise<void>>();
  private wakeScheduled = false;
  private readonly lost = new Set<string>();
  private slotWaiters: (() => void)[] = [];
  private running = true;
  private stopping: Promise<StopResult> | undefined;
  private readonly loopDone: Promise<void>;
  /** Moves this group's due retries back onto the stream. */
  private readonly promoter: RetryPromoter;
  private claimTimer: NodeJS.Timeout | undefined;
  private claimCursor = '0-0';
  private groupCreated = false;
  /** Acknowledges finished messages, one XACK per tick. */
  private readonly acks: AckBatcher;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  /** @internal Use `StreamQueue.consume`. */
  constructor(
    queue: StreamQueue<MessageSchema | undefined>,
    handler: Handler<Message>,
    options: ResolvedConsumeOptions,
  ) {
    this.queue = queue;
    this.handler = handler;
    this.options = options;
    this.group = options.group;
    this.name = options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.driver = queue.driver;
    this.events = queue.events;
    this.call = queue.call;
    this.connection = duplicateForBlocking(queue.options.redis);
    this.blocking = driverFor(this.connection);
    const reportError = this.reportError.bind(this);
    this.acks = new AckBatcher(queue, this.group, reportError);
    this.promoter = new RetryPromoter(queue, options.promoteInterval, () => this.running, reportError);
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    this.loopDone = this.run(markReady);
  }

  /** Whether the consumer is still reading (false once `stop` was called). */
  get isRunning(): boolean {
    return this.running;
  }

  /** Messages whose handlers are running now. */
  get inFlight(): number {
    return this.inflight.size;
  }

  /**
   * Stops reading, then waits up to `deadlineMs` for running handlers (their
   * claims are still renewed meanwhile). Messages whose handlers are still
   * running at the deadline stay pending and are claimed by other consumers
   * after the visibility timeout; nothing is lost. Closes the consumer's
   * blocking connection and timers. Calling it again returns the same result.
   *
   * A read that was in flight when `stop` was called is abandoned: entries the
   * server handed to it stay pending for this consumer and are claimed by
   * others after the visibility timeout.
   */
  stop(options?: StopOptions): Promise<StopResult> {
    const { deadlineMs } = parseOptions(stopOptionsSchema, options ?? {}, 'Consumer.stop()');
    this.stopping ??= this.shutdown(deadlineMs);
    return this.stopping;
  }

  private async shutdown(deadlineMs: number): Promise<StopResult> {
    this.running = false;
    this.promoter.cancel();
    clearTimeout(this.claimTimer);
    this.wakeSlotWaiters();
    this.connection.disconnect();
    await this.loopDone;
    const tasks = [...this.inflight.values()];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([Promise.allSettled(tasks), deadline]);
    clearTimeout(timer);
    // Acks already sent are bounded by the call timeout; waiting for them keeps "finished" true to its word.
    await Promise.allSettled([...this.acks.settling]);
    clearInterval(this.heartbeatTimer);
    const unfinished = this.inflight.size;
    if (unfinished === 0 && this.groupCreated) {
      // Consumers with random names would otherwise pile up in the group; one that still owns entries stays.
      await this.driver
        .script(retireConsumer, [this.queue.keys.stream], [this.group, this.name], this.call)
        .catch((error: unknown) => this.reportError('stop', error));
    }
    return { finished: tasks.length - unfinished, unfinished };
  }

  private async run(markReady: () => void): Promise<void> {
    try {
      if (!(await this.ensureGroup()) || !this.running) return;
      markReady();
      this.promoter.schedule(0);
      this.scheduleClaim(0);
      const heartbeatMs = Math.max(5, Math.floor(this.options.visibilityTimeout / 3));
      this.heartbeatTimer = setInterval(() => void this.heartbeat(), heartbeatMs);
      await this.readLoop();
    } finally {
      markReady();
    }
  }

  /** Creates the group (and stream) if missing; retries until it works or the consumer stops. */
  private async ensureGroup(): Promise<boolean> {
    while (this.running) {
      try {
        await this.driver.command(
          'XGROUP',
          ['CREATE', this.queue.keys.stream, this.group, this.options.startId, 'MKSTREAM'],
          this.call,
        );
        this.groupCreated = true;
        return true;
      } catch (error) {
        if (String((error as Error).message).includes('BUSYGROUP')) {
          this.groupCreated = true;
          return true;
        }
        this.reportError('read', error);
        await sleep(readRetryMs);
      }
    }
    return false;
  }

  private async readLoop(): Promise<void> {
    const { concurrency, blockMs } = this.options;
    const batch = this.options.batch ?? concurrency;
    const readCall = { timeoutMs: blockMs + this.driver.timeoutMs };
    while (this.running) {
      const free = concurrency - this.inflight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        continue;
      }
      let reply: unknown;
      try {
        reply = await this.blocking.command(
          'XREADGROUP',
          [
            'GROUP',
            this.group,
            this.name,
            'COUNT',
            Math.min(batch, free),
            'BLOCK',
            blockMs,
            'STREAMS',
            this.queue.keys.stream,
            '>',
          ],
          readCall,
        );
      } catch (error) {
        if (!this.running) return;
        if (String((error as Error).message).includes('NOGROUP')) {
          // The stream or group was deleted (or lost in a failover): create it again.
          if (!(await this.ensureGroup())) return;
          continue;
        }
        this.reportError('read', error);
        await sleep(readRetryMs);
        continue;
      }
      for (const [id, raw] of streamEntries(reply)) {
        // Read after stop() began: it stays pending and is claimed after the visibility timeout.
        if (!this.running) continue;
        this.start(id, raw, 1);
      }
    }
  }

  /** Starts a handler for an entry; `deliveries` is how often this entry was delivered (1 for a fresh read). */
  private start(id: string, raw: RawFields | null, deliveries: number, attemptOverride?: number): void {
    if (this.inflight.has(id)) return;
    // Taken before the call: a synchronous handler can finish (and free the slot) before process() returns.
    this.inflight.set(id, settled);
    const task = this.process(id, raw, attemptOverride ?? Number(fieldOf(raw, 'n') ?? 0) + deliveries);
    if (this.inflight.has(id)) this.inflight.set(id, task);
  }

  private async process(id: string, raw: RawFields | null, attempt: number): Promise<void> {
    try {
      const target = fieldOf(raw, 'g');
      if (target !== undefined && target !== '' && target !== this.group) {
        // A retry or replay meant for another group of this stream: this group handled the message already.
        await this.acks.ack(id);
        return;
      }
      const decoded = this.queue.decode(fieldOf(raw, 'd'));
      if (!decoded.ok) {
        await this.fail(id, decoded.error, 'invalid');
        return;
      }
      const throttle = this.options.throttle;
      let permit: { release(): Promise<unknown> } | null = null;
      if (throttle) {
        try {
          permit = await throttle.semaphore.tryAcquire(throttle.resource);
        } catch (error) {
          // Whether the resource has room is unknown: treat it as full rather than overload it.
          this.reportError('throttle', error);
        }
        if (!permit) {
          await this.fail(id, '', 'throttled');
          return;
        }
      }
      const started = performance.now();
      try {
        const result = this.handler(decoded.message as Message, {
          id,
          attempt,
          group: this.group,
          consumer: this.name,
          lastError: fieldOf(raw, 'e') || undefined,
        });
        // A synchronous handler costs no extra turn of the event loop.
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') await result;
      } catch (error) {
        await this.release(permit);
        await this.fail(id, errorText(error), '');
        return;
      }
      if (permit) await this.release(permit);
      const durationMs = performance.now() - started;
      // The slot is free once the handler is done: the next read need not wait for this ack's round trip.
      void this.acks.ack(id, { attempt, durationMs });
    } finally {
      this.inflight.delete(id);
      this.lost.delete(id);
      this.wakeSlotWaiters();
    }
  }

  private async release(permit: { release(): Promise<unknown> } | null): Promise<void> {
    if (!permit) return;
    try {
      await permit.release();
    } catch (error) {
      // The lease expires by itself.
      this.reportError('throttle', error);
    }
  }

  private async fail(id: string, error: string, reason: string): Promise<void> {
    const { keys } = this.queue;
    const { maxDeliveries } = this.options;
    const backoff =
      reason === 'throttled' && this.options.throttle ? this.options.throttle.backoff : this.options.backoff;
    let reply: [string, number, number | string];
    try {
      reply = await this.driver.script(
        failMessage,
        [keys.stream, keys.delayed, keys.delayedData, keys.dead],
        [
          this.group,
          this.name,
          id,
          error,
          maxDeliveries,
          backoff.initial,
          backoff.max,
          backoff.jitter,
          Math.random(),
          reason,
        ],
        this.call,
      );
    } catch (scriptError) {
      // Left pending: claimed after the visibility timeout, which counts as a delivery.
      this.reportError('fail', scriptError, [id]);
      return;
    }
    const [status, attempts, detail] = reply;
    const base = { stream: this.queue.stream, group: this.group };
    if (status === 'retry') {
      const delayMs = Number(detail);
      this.events.emit('retried', { ...base, attempt: attempts, delayMs, error });
      this.promoter.schedule(delayMs);
    } else if (status === 'throttled') {
      const delayMs = Number(detail);
      this.events.emit('throttled', { ...base, delayMs });
      this.promoter.schedule(delayMs);
    } else if (status === 'dead') {
      this.events.emit('dead-lettered', { ...base, attempts, reason: reason || 'max-deliveries', error });
    } else if (status === 'lost') {
      this.events.emit('claim-lost', { ...base, consumer: this.name, id });
    }
  }

  private scheduleClaim(ms: number): void {
    if (!this.running) return;
    this.claimTimer = setTimeout(() => void this.claim(), ms);
  }

  private async claim(): Promise<void> {
    const free = this.options.concurrency - this.inflight.size;
    const interval = this.options.claimInterval ?? Math.max(10, Math.floor(this.options.visibilityTimeout / 2));
    if (free > 0 && this.running) {
      const { keys } = this.queue;
      try {
        const [cursor, claimed] = await this.driver.script(
          claimStuck,
          [keys.stream, keys.dead],
          [this.group, this.name, this.options.visibilityTimeout, free, this.options.maxDeliveries, this.claimCursor],
          this.call,
        );
        // XAUTOCLAIM scans a bounded part of the pending list per call; the next call goes on from here.
        this.claimCursor = cursor;
        if (claimed.length > 0) {
          this.events.emit('claimed', {
            stream: this.queue.stream,
            group: this.group,
            consumer: this.name,
            count: claimed.length,
          });
        }
        for (const [id, raw, attempts] of claimed) {
          if (!this.running) break;
          this.start(id, raw, 0, Number(attempts));
        }
      } catch (error) {
        this.reportError('claim', error);
      }
    }
    this.scheduleClaim(interval);
  }

  /** Renews this consumer's claim on the messages it is processing, so no other consumer takes them over. */
  private async heartbeat(): Promise<void> {
    const ids = [...this.inflight.keys()].filter((id) => !this.lost.has(id));
    for (let start = 0; start < ids.length; start += heartbeatBatch) {
      const chunk = ids.slice(start, start + heartbeatBatch);
      try {
        const lost = await this.driver.script(
          extendClaims,
          [this.queue.keys.stream],
          [this.group, this.name, ...chunk],
          this.call,
        );
        for (const id of lost) {
          // Acked meanwhile (finished), or claimed by another consumer after a missed heartbeat.
          if (!this.inflight.has(id) || this.lost.has(id)) continue;
          this.lost.add(id);
          this.events.emit('claim-lost', { stream: this.queue.stream, group: this.group, consumer: this.name, id });
        }
      } catch (error) {
        this.reportError('heartbeat', error);
      }
    }
  }

  /**
   * Wakes the read loop once per macrotask: handlers that finish together
   * free their slots together, so the next read asks for all of them at once
   * instead of one entry per freed slot.
   */
  private wakeSlotWaiters(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      const waiters = this.slotWaiters;
      this.slotWaiters = [];
      for (const wake of waiters) wake();
    });
  }

  private reportError(step: QueueEvents['error']['step'], error: unknown, ids?: readonly string[]): void {
    this.events.emit('error', {
      stream: this.queue.stream,
      group: this.group,
      step,
      error: errorText(error),
      ...(ids ? { ids } : {}),
    });
  }
}
