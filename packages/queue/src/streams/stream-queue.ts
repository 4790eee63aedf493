/**
 * `StreamQueue`, the producer side and front door of a stream work queue:
 * adds (single, batched, idempotent), the automatic trim, and the entry
 * points to consumers, stats, health, trimming and the dead letters, each
 * of which lives in its own file beside this one.
 */
import type { CallOptions, RedisArg, RedisDriver } from '@redkit/core';
import { InvalidOptionsError, parseOptions, startPattern, TelemetryEmitter } from '@redkit/core';
import type { QueueEvents } from '../events.js';
import { decodeMessage, encodeMessage } from '../message-codec.js';
import {
  type AddManyOptions,
  type AddOptions,
  addManyOptionsSchema,
  addOptionsSchema,
  type ConsumeOptions,
  consumeOptionsSchema,
  type HealthOptions,
  healthOptionsSchema,
  type MessageInputOf,
  type MessageOf,
  type MessageSchema,
  type ResolvedStreamQueueOptions,
  type StreamQueueOptions,
  streamQueueOptionsSchema,
  type TrimOptions,
  trimOptionsSchema,
} from '../options.js';
import { Consumer, type Handler } from './consumer.js';
import { createDeadLetters, type DeadLetters } from './dead-letters.js';
import { QueueKeys } from './queue-keys.js';
import { assessHealth, type QueueHealth, type QueueStats, readQueueStats } from './queue-stats.js';
import { addMessage, addMessages, trimStream } from './scripts.js';
import { XaddBatcher } from './xadd-batcher.js';

const noAddOptions: { idempotencyKey?: undefined; id?: undefined } = {};
/** Messages per script call of `addMany` with idempotency keys. */
const addManyChunk = 500;
const maxIdempotencyKeyLength = 512;

/** Redis refuses an explicit id at or below the stream's last one: that is a bad `id`, and nothing was written. */
function idRejected(error: unknown, context: string): unknown {
  const text = String((error as Error)?.message ?? error);
  if (!/ID specified in XADD|equal or smaller|Invalid stream ID|greater than 0-0/i.test(text)) return error;
  return new InvalidOptionsError([{ path: 'id', message: `was refused by Redis: ${text}` }], { context, cause: error });
}

/** Outcome of `add`. */
export interface AddResult {
  /** The stream entry id (for a duplicate: the id of the first add). */
  readonly id: string;
  /** True when the idempotency key was seen before and nothing was added. */
  readonly duplicate: boolean;
}

/**
 * A work queue on one Redis Stream, consumed by consumer groups: each message
 * goes to one consumer of each group, is acknowledged when its handler
 * succeeds, retried with exponential backoff and jitter when it fails (the
 * retry waits in a sorted set, so it never blocks the stream), and moved
 * atomically to a dead-letter stream after `maxDeliveries` attempts. Messages
 * left pending by a consumer that died are claimed by live consumers after a
 * visibility timeout; a consumer busy on a message renews its claim.
 *
 * Delivery is at least once: a handler may see a message again after a crash,
 * a claim or a failover, so handlers should be idempotent.
 *
 * All keys of a stream share the hash tag `{<stream>}` (one cluster slot); to
 * spread load over a cluster, use several streams.
 *
 * @example
 * ```ts
 * const queue = new StreamQueue({ redis, stream: 'emails', schema: z.object({ to: z.string().email() }) })
 * await queue.add({ to: 'a@example.com' }, { idempotencyKey: 'welcome:42' })
 * const consumer = queue.consume(async (message) => sendMail(message.to), { group: 'mailers', concurrency: 10 })
 * // on shutdown
 * await consumer.stop({ deadlineMs: 10_000 })
 * ```
 */
export class StreamQueue<Schema extends MessageSchema | undefined = undefined> {
  /** Typed telemetry: `added`, `processed`, `retried`, `dead-lettered`, `claimed`, `claim-lost`, `promoted`, `error`. */
  readonly events: TelemetryEmitter<QueueEvents>;
  /** The stream's name. */
  readonly stream: string;
  /** The key namespace. */
  readonly namespace: string;
  /** The dead letters of this stream. */
  readonly deadLetters: DeadLetters<MessageOf<Schema>>;
  /** @internal */
  readonly keys: QueueKeys;
  /** @internal */
  readonly driver: RedisDriver;
  /** @internal */
  readonly options: ResolvedStreamQueueOptions;
  /** @internal */
  readonly call: CallOptions | undefined;
  private addedSinceTrim = 0;
  private autoTrimming = false;
  /** Single adds, sent one pipeline per tick. */
  private readonly adds: XaddBatcher;

  constructor(options: StreamQueueOptions<Schema>) {
    // An evicted stream loses messages; an evicted delayed set loses retries: warn once if the server may.
    ({
      options: this.options,
      driver: this.driver,
      call: this.call,
    } = startPattern(streamQueueOptionsSchema, options, { context: 'StreamQueue', evictable: 'queue' }));
    this.keys = new QueueKeys(this.options.namespace, this.options.stream);
    this.namespace = this.keys.namespace;
    this.stream = this.options.stream;
    this.events = new TelemetryEmitter<QueueEvents>('queue');
    this.adds = new XaddBatcher(this.driver, this.keys.stream, this.call);
    this.deadLetters = createDeadLetters<MessageOf<Schema>>(this);
  }

  /**
   * Appends a message. With an `idempotencyKey`, a key seen before (within
   * `idempotencyTtl`) adds nothing and returns the first add's id; the check
   * and the add are one atomic script. With an `id`, the entry gets that
   * stream id instead of one the server picks; it must be above the stream's
   * last id, or the add fails with `InvalidOptionsError` naming `id` and
   * nothing is written.
   *
   * @throws InvalidOptionsError (`InvalidMessageError` for the message) before anything is written.
   * @example
   * ```ts
   * const { id, duplicate } = await queue.add({ to: 'a@example.com' }, { idempotencyKey: 'welcome:42' })
   * ```
   */
  async add(message: MessageInputOf<Schema>, options?: AddOptions): Promise<AddResult> {
    const context = 'StreamQueue.add()';
    // The common call has no options: skip parsing an empty object on the hot path.
    const { idempotencyKey, id: explicitId } =
      options === undefined ? noAddOptions : parseOptions(addOptionsSchema, options, context);
    const data = encodeMessage(this.options.schema, message, 'message', context);
    let added: number;
    let id: string;
    try {
      if (idempotencyKey === undefined) {
        added = 1;
        id = await this.adds.add(data, explicitId ?? '*');
      } else {
        [added, id] = await this.driver.script(
          addMessage,
          [this.keys.stream, this.keys.dedupe(idempotencyKey)],
          [data, idempotencyKey, this.options.idempotencyTtl, explicitId ?? '*'],
          this.call,
        );
      }
    } catch (error) {
      throw explicitId === undefined ? error : idRejected(error, context);
    }
    if (this.events.listens('added')) this.events.emit('added', { stream: this.stream, duplicate: added === 0 });
    if (added === 1 && this.options.trim !== undefined) await this.countAdded(1);
    return { id, duplicate: added === 0 };
  }

  /**
   * Appends messages in one round trip, in order. Every message (and every
   * idempotency key) is checked first: one bad message writes nothing.
   *
   * Without `idempotencyKey` it pipelines one XADD per message and returns the
   * entry ids. With it (a function giving each message's key, or `undefined`
   * for none), the messages go through one atomic script per 500 messages
   * that skips every key seen before (within `idempotencyTtl`, including
   * earlier in the same call), and it returns `{ id, duplicate }` per message
   * as `add` does.
   *
   * @returns the entry ids (or results), in the order of `messages`.
   * @throws InvalidOptionsError naming `messages.<index>…` before anything is written.
   * @example
   * ```ts
   * const results = await queue.addMany(orders, { idempotencyKey: (order) => `order:${order.id}` })
   * ```
   */
  addMany(
    messages: readonly MessageInputOf<Schema>[],
    options: AddManyOptions<MessageInputOf<Schema>> & {
      idempotencyKey: (message: MessageInputOf<Schema>, index: number) => string | undefined;
    },
  ): Promise<AddResult[]>;
  addMany(
    messages: readonly MessageInputOf<Schema>[],
    options?: AddManyOptions<MessageInputOf<Schema>>,
  ): Promise<string[]>;
  async addMany(
    messages: readonly MessageInputOf<Schema>[],
    options?: AddManyOptions<MessageInputOf<Schema>>,
  ): Promise<string[] | AddResult[]> {
    const context = 'StreamQueue.addMany()';
    if (!Array.isArray(messages)) {
      throw new InvalidOptionsError([{ path: 'messages', message: 'must be an array' }], { context });
    }
    const { idempotencyKey: keyOf } =
      options === undefined
        ? ({} as { idempotencyKey?: undefined })
        : parseOptions(addManyOptionsSchema, options, context);
    const encoded = messages.map((message, index) =>
      encodeMessage(this.options.schema, message, `messages.${index}`, context),
    );
    if (keyOf !== undefined) return this.addManyOnce(messages, encoded, keyOf, context);
    if (encoded.length === 0) return [];
    const replies = await this.driver.pipeline(
      encoded.map((data) => ['XADD', this.keys.stream, '*', 'd', data] as const),
      this.call,
    );
    const ids: string[] = [];
    for (const [error, id] of replies) {
      if (error) throw error;
      ids.push(String(id));
    }
    if (this.events.listens('added')) {
      for (let index = 0; index < ids.length; index++)
        this.events.emit('added', { stream: this.stream, duplicate: false });
    }
    await this.countAdded(ids.length);
    return ids;
  }

  private async addManyOnce(
    messages: readonly unknown[],
    encoded: string[],
    keyOf: (message: never, index: number) => string | undefined,
    context: string,
  ): Promise<AddResult[]> {
    const keys = messages.map((message, index) => {
      const key = (keyOf as (message: unknown, index: number) => unknown)(message, index);
      if (key === undefined) return undefined;
      if (typeof key !== 'string' || key.length === 0 || key.length > maxIdempotencyKeyLength) {
        throw new InvalidOptionsError(
          [
            {
              path: `messages.${index}`,
              message: `idempotencyKey() must return undefined or a string of 1 to ${maxIdempotencyKeyLength} characters, got ${JSON.stringify(key)}`,
            },
          ],
          { context },
        );
      }
      return key;
    });
    const results: AddResult[] = [];
    for (let first = 0; first < encoded.length; first += addManyChunk) {
      const last = Math.min(encoded.length, first + addManyChunk);
      const scriptKeys = [this.keys.stream];
      const args: RedisArg[] = [this.options.idempotencyTtl];
      for (let index = first; index < last; index++) {
        const key = keys[index];
        if (key === undefined) {
          args.push(encoded[index] as string, 0, '');
        } else {
          scriptKeys.push(this.keys.dedupe(key));
          args.push(encoded[index] as string, scriptKeys.length, key);
        }
      }
      const reply = await this.driver.script(addMessages, scriptKeys, args, this.call);
      let added = 0;
      for (let index = 0; index + 1 < reply.length; index += 2) {
        const duplicate = reply[index] === 0;
        if (!duplicate) added++;
        results.push({ id: String(reply[index + 1]), duplicate });
        if (this.events.listens('added')) this.events.emit('added', { stream: this.stream, duplicate });
      }
      await this.countAdded(added);
    }
    return results;
  }

  /** Counts entries added by this instance and runs the automatic trim every `trim.every` of them. */
  private async countAdded(count: number): Promise<void> {
    const auto = this.options.trim;
    if (auto === undefined || count === 0) return;
    this.addedSinceTrim += count;
    if (this.addedSinceTrim < auto.every || this.autoTrimming) return;
    this.addedSinceTrim = 0;
    this.autoTrimming = true;
    try {
      await this.driver.script(
        trimStream,
        [this.keys.stream],
        [auto.maxLen ?? -1, auto.maxAge ?? -1, '', 1],
        this.call,
      );
    } catch (error) {
      // The add succeeded; the next round of adds trims again.
      this.events.emit('error', {
        stream: this.stream,
        group: '',
        step: 'trim',
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
    } finally {
      this.autoTrimming = false;
    }
  }

  /**
   * Starts a consumer of `group` that runs `handler` for each message:
   * success acknowledges it; a throw (or rejection) schedules a retry with
   * backoff, or moves it to the dead letters after `maxDeliveries` attempts.
   * It creates the group (and the stream) if missing.
   *
   * Each consumer opens one dedicated connection (a duplicate of `redis`) for
   * its blocking XREADGROUP, so blocking reads never hold up other commands;
   * everything else goes through `redis`. `stop()` closes it.
   *
   * @throws InvalidOptionsError synchronously for bad options; nothing is written.
   */
  consume(handler: Handler<MessageOf<Schema>>, options: ConsumeOptions): Consumer<MessageOf<Schema>> {
    const context = 'StreamQueue.consume()';
    if (typeof handler !== 'function') {
      throw new InvalidOptionsError([{ path: 'handler', message: 'must be a function' }], { context });
    }
    const resolved = parseOptions(consumeOptionsSchema, options, context);
    return new Consumer<MessageOf<Schema>>(
      this as unknown as StreamQueue<MessageSchema | undefined>,
      handler,
      resolved,
    );
  }

  /**
   * Reads the state of the stream and its groups in one atomic script: length,
   * waiting retries, dead letters, and per group its pending count, lag, age
   * of the oldest pending entry and the delivery-count distribution. Made for
   * dashboards, alerts and health checks.
   *
   * @example
   * ```ts
   * const { groups, dead } = await queue.stats()
   * if (dead > 0 || groups.some((g) => (g.oldestPendingMs ?? 0) > 60_000)) alert()
   * ```
   */
  async stats(): Promise<QueueStats> {
    return readQueueStats(this.driver, this.keys, this.call);
  }

  /**
   * A health check for probes and alerts, made on {@link StreamQueue.stats}:
   * unhealthy when Redis does not answer, a group's oldest pending entry is
   * older than `maxPendingAge`, a group lags more than `maxLag`, or there are
   * more than `maxDead` dead letters. Never throws for a Redis failure: that
   * is a problem it reports.
   *
   * @example
   * ```ts
   * app.get('/health/queue', async (_req, res) => {
   *   const health = await queue.health({ maxPendingAge: '2m', maxLag: 10_000 })
   *   res.status(health.healthy ? 200 : 503).json(health.problems)
   * })
   * ```
   */
  async health(options?: HealthOptions): Promise<QueueHealth> {
    const thresholds = parseOptions(healthOptionsSchema, options ?? {}, 'StreamQueue.health()');
    return assessHealth(() => this.stats(), thresholds);
  }

  /**
   * Trims the stream by length, age and/or id, but never past an entry that a
   * consumer group has not read yet or has not acknowledged (group-aware
   * trim, one atomic script). Entries in the delayed retry set and the dead
   * letters are not in the stream and are never touched. Run it periodically
   * (acknowledged entries otherwise stay in the stream).
   *
   * @returns how many entries were removed.
   * @example
   * ```ts
   * await queue.trim({ maxLen: 100_000, maxAge: '7d' })
   * ```
   */
  async trim(options: TrimOptions): Promise<number> {
    const { maxLen, maxAge, minId } = parseOptions(trimOptionsSchema, options, 'StreamQueue.trim()');
    const [removed] = await this.driver.script(
      trimStream,
      [this.keys.stream],
      [maxLen ?? -1, maxAge ?? -1, minId ?? '', 0],
      this.call,
    );
    return removed;
  }

  /** @internal Decodes an entry's data with the schema. */
  decode(data: string | undefined): ReturnType<typeof decodeMessage> {
    return decodeMessage(this.options.schema, data);
  }
}
