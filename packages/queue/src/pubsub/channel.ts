import {
  driverFor,
  durationSchema,
  escapeKeyPart,
  InvalidOptionsError,
  namespaceSchema,
  parseOptions,
  probeCapabilities,
  type RedisDriver,
  redisConnectionSchema,
  streamNameSchema,
  TelemetryEmitter,
  unescapeKeyPart,
  zodSchemaOption,
} from '@redkit/core';
import { z } from 'zod';
import { decodeMessage, encodeMessage } from '../message-codec.js';
import type { MessageInputOf, MessageOf, MessageSchema } from '../options.js';
import { hubFor, type RawListener, type SubscriptionKind } from './channel-hub.js';

/** Telemetry events of a {@link Channel} or {@link ChannelPattern}. */
export type ChannelEvents = {
  /** A message was published; `receivers` is what the server reported (see {@link Channel.publish}). */
  published: { channel: string; receivers: number; durationMs: number };
  /** A received payload was not JSON or failed the schema; it was dropped and no handler ran. */
  invalid: { channel: string; error: string; payload: string };
  /** A handler threw or rejected; the subscription keeps running. */
  'handler-error': { channel: string; error: string };
  /**
   * Subscriptions were re-established after the subscriber connection was
   * lost (a restart, a failover): messages published in between were missed.
   * Emitted for shard channels, and for classic ones on a standalone server
   * (a cluster client moves its classic subscriber without telling).
   */
  resubscribed: { mode: SubscriptionKind; channels: readonly string[] };
  /** Re-establishing subscriptions failed; it is retried in the background. */
  error: { mode: SubscriptionKind; channels: readonly string[]; error: string };
};

/** Details of a received message. */
export interface ChannelMessageContext {
  /** The channel's name as given to {@link Channel} (for a pattern: the name that matched). */
  readonly channel: string;
}

/** Handles one message; a throw or rejection is reported as a `handler-error` event. */
export type ChannelHandler<Message> = (message: Message, context: ChannelMessageContext) => void | Promise<void>;

/** An active subscription, returned by `subscribe`. */
export interface ChannelSubscription {
  /** Stops delivering to this handler; the last subscription of a client also closes its subscriber connection. */
  unsubscribe(): Promise<void>;
}

const schemaSchema = zodSchemaOption<MessageSchema>();

const commonShape = {
  redis: redisConnectionSchema,
  /** Prefix of the Redis channel names: `<namespace>:{<name>}`. @default "channel" */
  namespace: namespaceSchema.default('channel'),
  /** Zod schema of a message: checked on publish and again on receipt. */
  schema: schemaSchema.optional(),
  /**
   * Sharded pub/sub (SPUBLISH/SSUBSCRIBE) on a cluster: a message goes only to
   * the shard that owns the channel's slot instead of to every node. `false`
   * forces classic PUBLISH/SUBSCRIBE (e.g. to talk to existing subscribers).
   * Ignored on a standalone server and on Redis < 7, which use classic pub/sub.
   * Publishers and subscribers of one channel must agree.
   * @default true
   */
  sharded: z.boolean().default(true),
  /** Bound on each call to Redis (publish, subscribe). @default the client's command timeout, else 5s */
  timeout: durationSchema({ min: 1, max: 60_000 }).optional(),
};

/** Options of `new Channel()`. */
export const channelOptionsSchema = z
  .object({
    ...commonShape,
    /** The channel's name; the Redis channel is `<namespace>:{<name>}`, so each name has its own cluster slot. */
    name: streamNameSchema,
  })
  .strict();

/** Options of `new ChannelPattern()`. */
export const channelPatternOptionsSchema = z
  .object({
    ...commonShape,
    /**
     * A glob over channel names (`*`, `?`, `[abc]`, as Redis PSUBSCRIBE), e.g.
     * `"orders.*"`; matched against the names given to {@link Channel}.
     */
    pattern: streamNameSchema,
  })
  .strict()
  .omit({ sharded: true });

type WithSchema<Input, Schema> = Omit<Input, 'schema'> & {
  /** Zod schema of a message: checked on publish and again on receipt. */
  schema?: Schema;
};

/** Options of `new Channel()`; `schema` types the messages. */
export type ChannelOptions<Schema extends MessageSchema | undefined = undefined> = WithSchema<
  z.input<typeof channelOptionsSchema>,
  Schema
>;

/** Options of `new ChannelPattern()`; `schema` types the messages. */
export type ChannelPatternOptions<Schema extends MessageSchema | undefined = undefined> = WithSchema<
  z.input<typeof channelPatternOptionsSchema>,
  Schema
>;

interface Receiver {
  readonly driver: RedisDriver;
  readonly redis: z.output<typeof redisConnectionSchema>;
  readonly schema: MessageSchema | undefined;
  readonly timeoutMs: number;
  readonly events: TelemetryEmitter<ChannelEvents>;
  /** The user-facing name of a Redis channel. */
  nameOf(redisChannel: string): string;
}

const prefixLength = (namespace: string) => namespace.length + 2;

/** Subscribes `handler` through the client's shared subscriber connections. */
async function subscribeThrough<Message>(
  receiver: Receiver,
  kind: SubscriptionKind,
  redisName: string,
  handler: ChannelHandler<Message>,
): Promise<ChannelSubscription> {
  if (typeof handler !== 'function') {
    throw new InvalidOptionsError([{ path: 'handler', message: 'must be a function' }], { context: 'subscribe()' });
  }
  const { events, schema } = receiver;
  const report = (channel: string, error: unknown) =>
    events.emit('handler-error', { channel, error: error instanceof Error ? error.message : String(error) });
  const listener: RawListener = (payload, redisChannel) => {
    const channel = receiver.nameOf(redisChannel);
    const decoded = decodeMessage(schema, payload);
    if (!decoded.ok) {
      events.emit('invalid', { channel, error: decoded.error, payload: payload.slice(0, 1_000) });
      return;
    }
    try {
      const result = handler(decoded.message as Message, { channel });
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (error: unknown) => report(channel, error));
      }
    } catch (error) {
      report(channel, error);
    }
  };
  const hub = hubFor(receiver.redis, receiver.timeoutMs);
  const offResubscribe = hub.onResubscribe((mode, names) => {
    if (names.includes(redisName)) events.emit('resubscribed', { mode, channels: [receiver.nameOf(redisName)] });
  });
  const offError = hub.onError((mode, names, error) => {
    if (names.includes(redisName)) events.emit('error', { mode, channels: [receiver.nameOf(redisName)], error });
  });
  try {
    await hub.subscribe(kind, redisName, listener);
  } catch (error) {
    offResubscribe();
    offError();
    throw error;
  }
  let active = true;
  return {
    async unsubscribe() {
      if (!active) return;
      active = false;
      offResubscribe();
      offError();
      await hub.unsubscribe(kind, redisName, listener);
    },
  };
}

function timeoutOf(driver: RedisDriver, timeout: number | undefined): number {
  return timeout ?? driver.timeoutMs;
}

/** The live subscriptions of one channel or pattern, so `close()` can end them all. */
class SubscriptionSet {
  private readonly live = new Set<ChannelSubscription>();

  /** Adds `subscription`; the returned handle also forgets it when unsubscribed. */
  track(subscription: ChannelSubscription): ChannelSubscription {
    this.live.add(subscription);
    return {
      unsubscribe: async () => {
        this.live.delete(subscription);
        await subscription.unsubscribe();
      },
    };
  }

  async closeAll(): Promise<void> {
    const all = [...this.live];
    this.live.clear();
    await Promise.all(all.map((subscription) => subscription.unsubscribe()));
  }
}

/**
 * A typed pub/sub channel: `publish` checks each message against the schema,
 * `subscribe` hands checked messages to a handler.
 *
 * Pub/sub is fire-and-forget: a message reaches only the subscribers
 * connected at that moment and is never stored or retried. Use a
 * {@link StreamQueue} when every message must be processed.
 *
 * On a cluster of Redis ≥ 7 it uses sharded pub/sub (SPUBLISH/SSUBSCRIBE):
 * the channel lives on the master of its slot, so traffic is not broadcast to
 * every node. Subscribing opens one subscriber connection per client (and on
 * a cluster one per master that serves a subscribed channel), shared by all
 * channels of that client and closed with its last subscription.
 *
 * @example
 * ```ts
 * const orders = new Channel({ redis, name: 'orders', schema: z.object({ id: z.string(), total: z.number() }) })
 * const subscription = await orders.subscribe((order) => console.log(order.id, order.total))
 * await orders.publish({ id: 'o-1', total: 42 })
 * await subscription.unsubscribe()
 * ```
 */
export class Channel<Schema extends MessageSchema | undefined = undefined> {
  /** The channel's name as given. */
  readonly name: string;
  /** The Redis channel: `<namespace>:{<name>}`. */
  readonly redisChannel: string;
  /** Typed telemetry events (see {@link ChannelEvents}). */
  readonly events: TelemetryEmitter<ChannelEvents>;
  private readonly options: z.output<typeof channelOptionsSchema>;
  private readonly driver: RedisDriver;
  private readonly timeoutMs: number;
  private shardedMode: Promise<boolean> | undefined;
  private readonly subscriptions = new SubscriptionSet();

  constructor(options: ChannelOptions<Schema>) {
    this.options = parseOptions(channelOptionsSchema, options, 'Channel');
    this.name = this.options.name;
    this.redisChannel = `${this.options.namespace}:{${escapeKeyPart(this.name)}}`;
    this.driver = driverFor(this.options.redis);
    this.timeoutMs = timeoutOf(this.driver, this.options.timeout);
    this.events = new TelemetryEmitter<ChannelEvents>('channel');
  }

  /** Whether this channel uses sharded pub/sub (a cluster of Redis ≥ 7 and `sharded` not false). */
  isSharded(): Promise<boolean> {
    if (!this.shardedMode) {
      const mode =
        !this.options.sharded || this.driver.topology !== 'cluster'
          ? Promise.resolve(false)
          : probeCapabilities(this.driver).then((capabilities) => capabilities.versionParts[0] >= 7);
      this.shardedMode = mode;
      // A failed probe is not remembered: the next call asks again.
      mode.catch(() => {
        if (this.shardedMode === mode) this.shardedMode = undefined;
      });
    }
    return this.shardedMode;
  }

  /**
   * Publishes a message after checking it against the schema.
   *
   * @returns the number of subscribers that received it, as the server counts
   * them: on a cluster with classic pub/sub only those connected to the node
   * that took the PUBLISH.
   * @throws InvalidMessageError (an `InvalidOptionsError` naming the field, e.g. `message.total`) before anything is sent.
   * @throws RedisUnavailableError when Redis does not answer within `timeout`.
   */
  async publish(message: MessageInputOf<Schema>): Promise<number> {
    const payload = encodeMessage(this.options.schema, message, 'message', 'Channel.publish()');
    const started = performance.now();
    const sharded = await this.isSharded();
    const receivers = await this.driver.command<number>(
      sharded ? 'SPUBLISH' : 'PUBLISH',
      [this.redisChannel, payload],
      {
        timeoutMs: this.timeoutMs,
      },
    );
    if (this.events.listens('published')) {
      this.events.emit('published', { channel: this.name, receivers, durationMs: performance.now() - started });
    }
    return receivers;
  }

  /**
   * Delivers each message published from now on to `handler`, checked
   * against the schema. A payload that fails it is reported as an `invalid`
   * event and skipped; a handler that throws is reported as `handler-error`.
   * Resolves once the server confirmed the subscription.
   *
   * @throws RedisUnavailableError when the subscription was not confirmed within `timeout`.
   */
  async subscribe(handler: ChannelHandler<MessageOf<Schema>>): Promise<ChannelSubscription> {
    const sharded = await this.isSharded();
    const namespaceLength = prefixLength(this.options.namespace);
    const subscription = await subscribeThrough(
      {
        driver: this.driver,
        redis: this.options.redis,
        schema: this.options.schema,
        timeoutMs: this.timeoutMs,
        events: this.events,
        nameOf: (redisChannel) => unescapeKeyPart(redisChannel.slice(namespaceLength, -1)),
      },
      sharded ? 'sharded' : 'classic',
      this.redisChannel,
      handler,
    );
    return this.subscriptions.track(subscription);
  }

  /** Ends every subscription made through this channel. */
  async close(): Promise<void> {
    await this.subscriptions.closeAll();
  }
}

/**
 * A pattern subscription over the names of {@link Channel}s of one namespace,
 * e.g. `"orders.*"` receives what `new Channel({ name: 'orders.eu' })` publishes.
 *
 * Redis has no sharded pattern subscription, so this always uses classic
 * PSUBSCRIBE; on a cluster it receives only channels that publish classically
 * (`sharded: false` on their {@link Channel}), since sharded messages stay on
 * their shard.
 *
 * @example
 * ```ts
 * const all = new ChannelPattern({ redis, pattern: 'orders.*', schema: orderSchema })
 * await all.subscribe((order, { channel }) => console.log(channel, order.id))
 * ```
 */
export class ChannelPattern<Schema extends MessageSchema | undefined = undefined> {
  /** The pattern as given. */
  readonly pattern: string;
  /** The Redis pattern: `<namespace>:{<pattern>}`. */
  readonly redisPattern: string;
  /** Typed telemetry events (see {@link ChannelEvents}). */
  readonly events: TelemetryEmitter<ChannelEvents>;
  private readonly options: z.output<typeof channelPatternOptionsSchema>;
  private readonly driver: RedisDriver;
  private readonly subscriptions = new SubscriptionSet();

  constructor(options: ChannelPatternOptions<Schema>) {
    this.options = parseOptions(channelPatternOptionsSchema, options, 'ChannelPattern');
    this.pattern = this.options.pattern;
    this.redisPattern = `${this.options.namespace}:{${escapeKeyPart(this.pattern)}}`;
    this.driver = driverFor(this.options.redis);
    this.events = new TelemetryEmitter<ChannelEvents>('channel');
  }

  /**
   * Delivers each message published from now on to a matching channel,
   * checked against the schema (see {@link Channel.subscribe}).
   */
  async subscribe(handler: ChannelHandler<MessageOf<Schema>>): Promise<ChannelSubscription> {
    const namespaceLength = prefixLength(this.options.namespace);
    const subscription = await subscribeThrough(
      {
        driver: this.driver,
        redis: this.options.redis,
        schema: this.options.schema,
        timeoutMs: timeoutOf(this.driver, this.options.timeout),
        events: this.events,
        nameOf: (redisChannel) =>
          redisChannel === this.redisPattern ? this.pattern : unescapeKeyPart(redisChannel.slice(namespaceLength, -1)),
      },
      'pattern',
      this.redisPattern,
      handler,
    );
    return this.subscriptions.track(subscription);
  }

  /** Ends every subscription made through this pattern. */
  async close(): Promise<void> {
    await this.subscriptions.closeAll();
  }
}
