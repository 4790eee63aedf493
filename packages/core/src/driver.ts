import type { LuaScript } from './script.js';

/** An argument of a Redis command. */
export type RedisArg = string | number | Buffer;

/** A command of a pipeline: its name, then its arguments. */
export type PipelineCommand = readonly [name: string, ...args: RedisArg[]];

/** One pipeline reply: an error, or the command's result. */
export type PipelineReply = readonly [error: Error | null, result: unknown];

/** Per-call settings. */
export interface CallOptions {
  /**
   * Deadline for this call in ms; it rejects with `RedisUnavailableError`
   * after that. The command may still run on the server: it is never re-sent.
   * @default the driver's timeout (the connection's command timeout)
   */
  timeoutMs?: number;
}

/** Listener of messages on a channel. */
export type MessageListener = (message: string, channel: string) => void;

/**
 * A dedicated subscriber connection. Created on demand by
 * {@link RedisDriver.subscriber}: the one hidden connection a pattern may open.
 */
export interface Subscriber {
  /** Subscribes `listener` to `channel`; resolves once the server confirmed. */
  subscribe(channel: string, listener: MessageListener): Promise<void>;
  /** Removes `listener` (or every listener) from `channel`. */
  unsubscribe(channel: string, listener?: MessageListener): Promise<void>;
  /** Called after the connection was re-established (messages may have been missed). */
  onReconnect(listener: () => void): () => void;
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * The thin access layer through which every pattern reaches Redis. Patterns
 * never touch the client library directly, so another client library can be
 * supported by adding a driver. The only driver today wraps ioredis.
 */
export interface RedisDriver {
  /** Whether the client talks to one server or to a Redis Cluster. */
  readonly topology: 'standalone' | 'cluster';
  /** Default deadline of each call, in ms. */
  readonly timeoutMs: number;
  /**
   * Runs a Lua script with EVALSHA, loading it on NOSCRIPT (after a restart,
   * `SCRIPT FLUSH` or a failover). All `keys` must share one cluster slot.
   */
  script<Reply>(
    script: LuaScript<Reply>,
    keys: readonly string[],
    args: readonly RedisArg[],
    options?: CallOptions,
  ): Promise<Reply>;
  /** Sends one command. */
  command<Reply = unknown>(name: string, args: readonly RedisArg[], options?: CallOptions): Promise<Reply>;
  /**
   * Sends commands in one round trip. On a cluster all their keys must share
   * one slot. Resolves with each command's error or result, in order.
   */
  pipeline(commands: readonly PipelineCommand[], options?: CallOptions): Promise<PipelineReply[]>;
  /**
   * One standalone driver per master (the client itself when standalone),
   * once a cluster client knows its slot map.
   */
  masters(): Promise<RedisDriver[]>;
  /** Publishes a message; resolves with the number of receivers on that node. */
  publish(channel: string, message: string | Buffer): Promise<number>;
  /** Opens a dedicated subscriber connection (see {@link Subscriber}). */
  subscriber(): Subscriber;
  /** Called each time the connection (or, on a cluster, the cluster) becomes ready again. */
  onReady(listener: () => void): () => void;
}
