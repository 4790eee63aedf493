import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { withDeadline } from './deadline.js';
import type {
  CallOptions,
  MessageListener,
  PipelineCommand,
  PipelineReply,
  RedisArg,
  RedisDriver,
  Subscriber,
} from './driver.js';
import { InvalidOptionsError, RedisCommandError, RedisUnavailableError, RedkitError, ScriptError } from './errors.js';
import { type LuaScript, notifyScriptCall } from './script.js';
import { WriteBatching } from './write-batching.js';

/** An ioredis client: a standalone `Redis` or a `Cluster` (ioredis 5 or 6). */
export type RedisConnection = Redis | Cluster;

/** Used when the client has no command timeout of its own. */
const fallbackTimeoutMs = 5_000;

/**
 * Server replies that mean "not now" rather than "wrong": the command did not
 * run, and the same call may succeed after a failover or restart.
 */
const transientReply = /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|NOREPLICAS|MOVED|ASK)\b/;

/** Whether `error` is an error reply from Redis (ioredis's `ReplyError`), not a connection failure. */
export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/** Turns an ioredis failure into the matching {@link RedkitError}. */
function toRedkitError(error: unknown, what: string, script?: LuaScript): RedkitError {
  if (error instanceof RedkitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isReplyError(error) && !transientReply.test(message)) {
    return script
      ? new ScriptError(script.commandName, message, { cause: error })
      : new RedisCommandError(what, message, { cause: error });
  }
  return new RedisUnavailableError(`${what}: ${message}`, { cause: error, timedOut: message === 'Command timed out' });
}

function scriptError(error: unknown, script: LuaScript): RedkitError {
  return toRedkitError(error, `script ${script.name}`, script);
}

/** Whether `client` is an ioredis `Cluster` (of either major), not a single-server client. */
export function isCluster(client: RedisConnection): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

function clientTimeout(client: RedisConnection): number | undefined {
  const timeout = isCluster(client)
    ? client.options.redisOptions?.commandTimeout
    : (client as Redis).options.commandTimeout;
  return typeof timeout === 'number' && timeout > 0 ? timeout : undefined;
}

/**
 * Resolves once the client is ready, connecting a lazy one; rejects with
 * {@link RedisUnavailableError} after `timeoutMs`. A cluster client that has
 * not loaded its slot map yet treats every seed as a master and may swap
 * connections under a command, so callers that need a settled client (a
 * subscriber, a slot-map lookup) wait here first.
 *
 * @example
 * ```ts
 * await whenReady(redis, 2_000)
 * ```
 */
export async function whenReady(client: RedisConnection, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'wait') client.connect().catch(() => {});
  let onReady: () => void = () => {};
  try {
    await withDeadline(
      new Promise<void>((resolve) => {
        onReady = resolve;
        client.once('ready', onReady);
      }),
      timeoutMs,
      'waiting for the connection to be ready',
    );
  } finally {
    client.off('ready', onReady);
  }
}

class IoredisSubscriber implements Subscriber {
  private readonly connection: RedisConnection;
  private readonly listeners = new Map<string, Set<MessageListener>>();
  private readonly reconnectListeners = new Set<() => void>();
  private everReady = false;
  private readonly timeoutMs: number;

  constructor(client: RedisConnection, timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    // Both client kinds duplicate themselves with the same options when called without arguments.
    this.connection = (client.duplicate as () => RedisConnection).call(client);
    // Errors surface through the calls; without a listener ioredis would print them.
    this.connection.on('error', () => {});
    this.connection.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      for (const listener of set) listener(message, channel);
    });
    this.connection.on('ready', () => {
      if (this.everReady) for (const listener of this.reconnectListeners) listener();
      this.everReady = true;
    });
  }

  async subscribe(channel: string, listener: MessageListener): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      try {
        await this.subscribeWithRetry(channel);
      } catch (error) {
        this.listeners.delete(channel);
        throw toRedkitError(error, 'SUBSCRIBE');
      }
    }
    set.add(listener);
  }

  /**
   * SUBSCRIBE is idempotent, so it may be retried: a cluster client moves its
   * subscriber connection to another node when the slot map changes, which
   * fails a SUBSCRIBE sent just before.
   */
  private async subscribeWithRetry(channel: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        await whenReady(this.connection, Math.max(1, deadline - Date.now()));
        await this.connection.subscribe(channel);
        return;
      } catch (error) {
        if (isReplyError(error) || Date.now() + 50 >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  async unsubscribe(channel: string, listener?: MessageListener): Promise<void> {
    const set = this.listeners.get(channel);
    if (!set) return;
    if (listener) set.delete(listener);
    if (listener && set.size > 0) return;
    this.listeners.delete(channel);
    try {
      await this.connection.unsubscribe(channel);
    } catch (error) {
      throw toRedkitError(error, 'UNSUBSCRIBE');
    }
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.reconnectListeners.clear();
    try {
      await this.connection.quit();
    } catch {
      this.connection.disconnect();
    }
  }
}

class IoredisDriver implements RedisDriver {
  readonly topology: 'standalone' | 'cluster';
  readonly timeoutMs: number;
  private readonly client: RedisConnection;
  /** Set when the client bounds its own calls, so no extra timer is needed. */
  private readonly clientBoundsCalls: boolean;
  private readonly batching: WriteBatching;

  constructor(client: RedisConnection) {
    this.client = client;
    this.topology = isCluster(client) ? 'cluster' : 'standalone';
    this.batching = new WriteBatching(client, this.topology === 'cluster');
    const own = clientTimeout(client);
    this.timeoutMs = own ?? fallbackTimeoutMs;
    this.clientBoundsCalls = own !== undefined;
  }

  /**
   * The deadline a call needs a timer for, or undefined when the client bounds
   * it itself: a standalone client with a command timeout bounds every call. A
   * cluster that is not ready queues commands without any timeout, so those
   * calls (and calls with their own deadline) get a timer here.
   */
  private deadlineOf(options: CallOptions | undefined): number | undefined {
    const deadline = options?.timeoutMs;
    if (deadline === undefined && this.clientBoundsCalls) {
      if (this.topology === 'standalone' || (this.client as Cluster).status === 'ready') return undefined;
    }
    return deadline ?? this.timeoutMs;
  }

  script<Reply>(
    script: LuaScript<Reply>,
    keys: readonly string[],
    args: readonly RedisArg[],
    options?: CallOptions,
  ): Promise<Reply> {
    const keyCountOk = script.variadicKeys ? keys.length >= script.numberOfKeys : keys.length === script.numberOfKeys;
    if (!keyCountOk) {
      const expected = `${script.variadicKeys ? 'at least ' : ''}${script.numberOfKeys}`;
      return Promise.reject(new TypeError(`script ${script.name} takes ${expected} keys, got ${keys.length}`));
    }
    notifyScriptCall(script, keys);
    // EVALSHA, and EVAL only after NOSCRIPT (first use on a server, SCRIPT
    // FLUSH, a restart, a promoted replica). NOSCRIPT means the script did not
    // run, so sending it again is safe. Measured faster than ioredis's
    // defineCommand, which wraps every call in its own script command.
    // One handler retries and maps errors, so a call costs as few promises as
    // possible (a deadline's own rejection is a RedkitError already). The
    // handler is inline: a named closure per call costs more (see tsup.base.ts).
    const client = this.client as unknown as Record<'evalsha' | 'eval', (...args: RedisArg[]) => Promise<Reply>>;
    this.batching.hold();
    const call = client.evalsha(script.sha, keys.length, ...keys, ...args).then(undefined, (error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw scriptError(error, script);
      this.batching.hold();
      return client.eval(script.source, keys.length, ...keys, ...args).then(undefined, (retryError: unknown) => {
        throw scriptError(retryError, script);
      });
    });
    // The description of a timed-out call is built only when a timer is set: the usual call builds no string.
    const deadline = this.deadlineOf(options);
    return deadline === undefined ? call : withDeadline(call, deadline, `script ${script.name}`);
  }

  command<Reply = unknown>(name: string, args: readonly RedisArg[], options?: CallOptions): Promise<Reply> {
    // The upper-case name for messages is built only when one is needed.
    this.batching.hold();
    const call = this.client.call(name, ...args) as Promise<Reply>;
    const deadline = this.deadlineOf(options);
    const bounded = deadline === undefined ? call : withDeadline(call, deadline, name.toUpperCase());
    return bounded.catch((error: unknown) => {
      throw toRedkitError(error, name.toUpperCase());
    });
  }

  async pipeline(commands: readonly PipelineCommand[], options?: CallOptions): Promise<PipelineReply[]> {
    if (commands.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const [name, ...args] of commands) pipeline.call(name, ...args);
    let replies: [Error | null, unknown][] | null;
    try {
      const deadline = this.deadlineOf(options);
      this.batching.hold();
      replies = await (deadline === undefined ? pipeline.exec() : withDeadline(pipeline.exec(), deadline, 'pipeline'));
    } catch (error) {
      throw toRedkitError(error, 'pipeline');
    }
    if (!replies) throw new RedisUnavailableError('pipeline: no reply');
    return replies.map(([error, result], index) => [
      error ? toRedkitError(error, String(commands[index]?.[0] ?? '').toUpperCase()) : null,
      result,
    ]);
  }

  async masters(): Promise<RedisDriver[]> {
    const client = this.client;
    if (!isCluster(client)) return [this];
    await whenReady(client, this.timeoutMs);
    return client.nodes('master').map((node) => driverFor(node));
  }

  publish(channel: string, message: string | Buffer): Promise<number> {
    return this.command<number>('PUBLISH', [channel, message]);
  }

  subscriber(): Subscriber {
    return new IoredisSubscriber(this.client, this.timeoutMs);
  }

  onReady(listener: () => void): () => void {
    this.client.on('ready', listener);
    return () => {
      this.client.off('ready', listener);
    };
  }
}

const drivers = new WeakMap<object, RedisDriver>();

/** Whether `value` looks like an ioredis client (any copy of ioredis 5 or 6). */
export function isRedisConnection(value: unknown): value is RedisConnection {
  const candidate = value as Partial<Redis> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.defineCommand === 'function' &&
    typeof candidate.call === 'function' &&
    typeof candidate.duplicate === 'function'
  );
}

/**
 * Zod schema for the `redis` option of every pattern: an ioredis `Redis` or
 * `Cluster` instance.
 */
export const redisConnectionSchema = z.custom<RedisConnection>(isRedisConnection, {
  message: 'must be an ioredis Redis or Cluster instance (see connect() in @redkit/core)',
});

/**
 * The driver of an ioredis client, created once per client and cached.
 * Patterns call this with the `redis` their user passed.
 *
 * @example
 * ```ts
 * const db = driverFor(redis)
 * const count = await db.script(incrementScript, [key], [1])
 * ```
 */
export function driverFor(client: RedisConnection): RedisDriver {
  let driver = drivers.get(client);
  if (!driver) {
    if (!isRedisConnection(client)) {
      throw new InvalidOptionsError([
        { path: 'redis', message: 'must be an ioredis Redis or Cluster instance (see connect() in @redkit/core)' },
      ]);
    }
    driver = new IoredisDriver(client);
    drivers.set(client, driver);
  }
  return driver;
}
