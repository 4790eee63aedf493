import {
  isReplyError,
  keySlot,
  RedisCommandError,
  type RedisConnection,
  RedisUnavailableError,
  RedkitError,
  whenReady,
  withDeadline,
} from '@redkit/core';
import type { Cluster, Redis } from 'ioredis';

/** How a channel is subscribed: `SUBSCRIBE`, `PSUBSCRIBE` or `SSUBSCRIBE`. */
export type SubscriptionKind = 'classic' | 'pattern' | 'sharded';

/** Receives one raw message and the channel it came on. */
export type RawListener = (message: string, channel: string) => void;

/** Reported when subscriptions were re-established after a lost connection (messages in between are lost). */
export type ResubscribeListener = (kind: SubscriptionKind, names: readonly string[]) => void;

/** Reported when re-establishing subscriptions failed (it keeps trying). */
export type HubErrorListener = (kind: SubscriptionKind, names: readonly string[], error: string) => void;

/** How long a node that dropped its shard subscriptions is avoided while the slot map catches up. */
const demotedForMs = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One subscriber connection to one cluster master, for its shard channels. */
interface ShardConnection {
  readonly node: string;
  readonly redis: Redis;
  readonly channels: Set<string>;
}

/**
 * The subscriber connections of one client, shared by every channel and
 * pattern subscribed through it, and closed when the last subscription goes.
 *
 * - Classic channels and patterns use one duplicate of the client. ioredis
 *   re-subscribes it after a reconnect (on a cluster it moves to another node
 *   when its node goes away; classic messages reach every node).
 * - Shard channels (cluster only) use one connection per master that owns a
 *   subscribed channel's slot. ioredis's own sharded subscribers lose their
 *   subscriptions when a master is demoted by a planned failover (the server
 *   sends an unsolicited SUNSUBSCRIBE), so placement is managed here: when a
 *   connection ends or the server drops its subscriptions, its channels are
 *   placed again on their slot's current master.
 */
export class PubSubHub {
  private readonly client: RedisConnection;
  private readonly timeoutMs: number;
  private readonly onEmpty: () => void;
  private readonly listeners: Record<SubscriptionKind, Map<string, Set<RawListener>>> = {
    classic: new Map(),
    pattern: new Map(),
    sharded: new Map(),
  };
  private classic: RedisConnection | undefined;
  private classicEverReady = false;
  private readonly shards = new Map<string, ShardConnection>();
  /** Nodes that dropped their shard subscriptions (a demoted master), until when they are avoided. */
  private readonly demoted = new Map<string, number>();
  /** Shard channels that must be (re-)placed on their slot's master. */
  private readonly unplaced = new Set<string>();
  private placing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 50;
  private closed = false;
  private readonly resubscribeListeners = new Set<ResubscribeListener>();
  private readonly errorListeners = new Set<HubErrorListener>();

  constructor(client: RedisConnection, timeoutMs: number, onEmpty: () => void) {
    this.client = client;
    this.timeoutMs = timeoutMs;
    this.onEmpty = onEmpty;
  }

  /** Whether the hub was closed (a new one is made for the next subscription). */
  get isClosed(): boolean {
    return this.closed;
  }

  onResubscribe(listener: ResubscribeListener): () => void {
    this.resubscribeListeners.add(listener);
    return () => this.resubscribeListeners.delete(listener);
  }

  onError(listener: HubErrorListener): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Adds `listener` to `name`; resolves once the server confirmed the subscription. */
  async subscribe(kind: SubscriptionKind, name: string, listener: RawListener): Promise<void> {
    const map = this.listeners[kind];
    const existing = map.get(name);
    if (existing) {
      existing.add(listener);
      return;
    }
    const set = new Set([listener]);
    map.set(name, set);
    try {
      if (kind === 'sharded') await this.placeShard(name, Date.now() + this.timeoutMs);
      else await this.subscribeClassic(kind, name);
    } catch (error) {
      if (map.get(name) === set) map.delete(name);
      this.unplaced.delete(name);
      this.closeIfEmpty();
      const command = kind === 'pattern' ? 'PSUBSCRIBE' : kind === 'sharded' ? 'SSUBSCRIBE' : 'SUBSCRIBE';
      if (error instanceof RedkitError) throw error;
      // A refusal (NOPERM, an unknown command on an old server) is an answer, not an outage.
      if (isReplyError(error)) throw new RedisCommandError(`${command} ${name}`, message(error), { cause: error });
      throw new RedisUnavailableError(`${command} ${name}: ${message(error)}`, { cause: error });
    }
  }

  /** Removes `listener` from `name`; the last listener unsubscribes it on the server. */
  async unsubscribe(kind: SubscriptionKind, name: string, listener: RawListener): Promise<void> {
    const map = this.listeners[kind];
    const set = map.get(name);
    if (!set?.delete(listener) || set.size > 0) return;
    map.delete(name);
    try {
      if (kind === 'sharded') {
        this.unplaced.delete(name);
        for (const shard of [...this.shards.values()]) {
          if (!shard.channels.delete(name)) continue;
          // Confirmed before this resolves, so nothing published afterwards reaches the handler.
          await withDeadline(shard.redis.sunsubscribe(name), this.timeoutMs, 'SUNSUBSCRIBE');
          if (shard.channels.size === 0 && this.shards.get(shard.node) === shard) {
            this.shards.delete(shard.node);
            await quit(shard.redis);
          }
        }
      } else if (this.classic) {
        const call = kind === 'pattern' ? this.classic.punsubscribe(name) : this.classic.unsubscribe(name);
        await withDeadline(call, this.timeoutMs, kind === 'pattern' ? 'PUNSUBSCRIBE' : 'UNSUBSCRIBE');
      }
    } catch {
      // The connection is going away or gone: nothing is delivered on it any more.
    }
    if (this.empty) await this.close();
  }

  private get empty(): boolean {
    return this.listeners.classic.size === 0 && this.listeners.pattern.size === 0 && this.listeners.sharded.size === 0;
  }

  private closeIfEmpty(): void {
    if (this.empty) void this.close();
  }

  /** Closes every connection (also done once the last subscription is gone). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onEmpty();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const map of Object.values(this.listeners)) map.clear();
    this.unplaced.clear();
    const closing: Promise<unknown>[] = [];
    if (this.classic) closing.push(quit(this.classic));
    for (const shard of this.shards.values()) closing.push(quit(shard.redis));
    this.shards.clear();
    await Promise.all(closing);
  }

  // --- classic channels and patterns ---------------------------------------

  private classicConnection(): RedisConnection {
    if (this.classic) return this.classic;
    // Both client kinds duplicate themselves with the same options when called without arguments.
    const connection = (this.client.duplicate as () => RedisConnection).call(this.client);
    // Errors surface through the calls; without a listener ioredis would print them.
    connection.on('error', () => {});
    connection.on('message', (channel: string, text: string) => this.deliver('classic', channel, text, channel));
    connection.on('pmessage', (pattern: string, channel: string, text: string) =>
      this.deliver('pattern', pattern, text, channel),
    );
    connection.on('ready', () => {
      // ioredis re-subscribes a reconnected connection by itself (autoResubscribe).
      if (this.classicEverReady) {
        for (const kind of ['classic', 'pattern'] as const) {
          const names = [...this.listeners[kind].keys()];
          if (names.length > 0) for (const listener of this.resubscribeListeners) listener(kind, names);
        }
      }
      this.classicEverReady = true;
    });
    this.classic = connection;
    return connection;
  }

  /**
   * SUBSCRIBE is idempotent, so it may be retried: a cluster client moves its
   * subscriber connection to another node when the slot map changes, which
   * fails a SUBSCRIBE sent just before.
   */
  private async subscribeClassic(kind: 'classic' | 'pattern', name: string): Promise<void> {
    const connection = this.classicConnection();
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        await whenReady(connection, Math.max(1, deadline - Date.now()));
        const call = kind === 'pattern' ? connection.psubscribe(name) : connection.subscribe(name);
        await withDeadline(call, Math.max(1, deadline - Date.now()), kind === 'pattern' ? 'PSUBSCRIBE' : 'SUBSCRIBE');
        return;
      } catch (error) {
        if (isReplyError(error) || this.closed || Date.now() + 50 >= deadline) throw error;
        await sleep(50);
      }
    }
  }

  private deliver(kind: SubscriptionKind, name: string, text: string, channel: string): void {
    const set = this.listeners[kind].get(name);
    if (!set) return;
    for (const listener of set) listener(text, channel);
  }

  // --- shard channels (cluster) --------------------------------------------

  private get cluster(): Cluster {
    return this.client as Cluster;
  }

  /** The node key (`host:port`) of the master that serves `channel`'s slot, per the client's slot map. */
  private ownerOf(channel: string): string | undefined {
    return this.cluster.slots[keySlot(channel)]?.[0];
  }

  private refreshSlots(): Promise<void> {
    return withDeadline(
      new Promise<void>((resolve) => this.cluster.refreshSlotsCache(() => resolve())),
      this.timeoutMs,
      'refreshing the slot map',
    ).catch(() => {});
  }

  private shardConnection(node: string): ShardConnection {
    const existing = this.shards.get(node);
    if (existing) return existing;
    const seed = this.cluster
      .nodes('all')
      .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === node);
    const [host, port] = [node.slice(0, node.lastIndexOf(':')), Number(node.slice(node.lastIndexOf(':') + 1))];
    // A node connection of the cluster carries its auth, TLS and timeouts; reconnecting is done here, to the
    // slot's current master, so ioredis must neither retry this node nor re-subscribe by itself.
    const base = seed ?? (this.cluster.nodes('all')[0] as Redis | undefined);
    if (!base) throw new RedisUnavailableError('the cluster client knows no node yet');
    const redis = base.duplicate({
      host,
      port,
      lazyConnect: false,
      readOnly: false,
      retryStrategy: () => null,
      autoResubscribe: false,
      enableOfflineQueue: true,
    });
    const shard: ShardConnection = { node, redis, channels: new Set() };
    // Only channels placed here: a stray subscription (see placeShard) must not deliver twice.
    redis.on('smessage', (channel: string, text: string) => {
      if (shard.channels.has(channel)) this.deliver('sharded', channel, text, channel);
    });
    // ioredis 6 reports a server-sent SUNSUBSCRIBE (the slot moved, the master was demoted) as "moved";
    // ioredis 5 as a "command queue state error" naming the reply.
    redis.on('moved', () => this.displace(shard, true));
    redis.on('error', (error: unknown) => {
      if (/sunsubscribe/i.test(message(error))) this.displace(shard, true);
    });
    redis.on('end', () => this.displace(shard, false));
    this.shards.set(node, shard);
    return shard;
  }

  /**
   * The server dropped `shard`'s subscriptions (`demoted`: it no longer
   * serves their slots) or its connection: place its channels again.
   */
  private displace(shard: ShardConnection, demoted: boolean): void {
    if (this.closed || this.shards.get(shard.node) !== shard) return;
    // A demoted master keeps accepting SSUBSCRIBE as a replica of the shard, and right after a
    // failover some nodes still name it as the owner: it is avoided until the slot map moves on.
    if (demoted) this.demoted.set(shard.node, Date.now() + demotedForMs);
    for (const channel of shard.channels) this.unplaced.add(channel);
    this.closeShard(shard);
    this.schedulePlacement(0);
  }

  private closeShard(shard: ShardConnection): void {
    if (this.shards.get(shard.node) === shard) this.shards.delete(shard.node);
    shard.channels.clear();
    shard.redis.disconnect();
  }

  /** Subscribes one shard channel on its slot's master, retrying redirections until `deadline`. */
  private async placeShard(channel: string, deadline: number): Promise<void> {
    await whenReady(this.client, Math.max(1, deadline - Date.now()));
    for (let attempt = 0; ; attempt++) {
      const node = this.ownerOf(channel);
      let shard: ShardConnection | undefined;
      try {
        if (!node) throw new RedisUnavailableError(`no master serves the slot of ${channel}`);
        if ((this.demoted.get(node) ?? 0) > Date.now()) {
          throw new RedisUnavailableError(`the slot map still names ${node}, which gave up the slot of ${channel}`);
        }
        shard = this.shardConnection(node);
        await withDeadline(shard.redis.ssubscribe(channel), Math.max(1, deadline - Date.now()), 'SSUBSCRIBE');
        if (this.closed || !this.listeners.sharded.has(channel)) {
          shard.redis.sunsubscribe(channel).catch(() => {});
          return;
        }
        if (this.shards.get(node) !== shard) throw new RedisUnavailableError('the connection closed');
        // One place per channel, so a message is never delivered twice (two placements may race).
        for (const other of this.shards.values()) {
          if (other !== shard && other.channels.delete(channel)) other.redis.sunsubscribe(channel).catch(() => {});
        }
        shard.channels.add(channel);
        return;
      } catch (error) {
        if (this.closed) throw error;
        // A SSUBSCRIBE that timed out or lost its connection may still be queued and run once the node
        // answers (a restarted master): the connection is dropped, so no stray subscription stays behind.
        if (shard && !isReplyError(error)) this.displace(shard, false);
        // MOVED: the slot map is stale (a failover); a lost connection: the node may be gone.
        const redirected = isReplyError(error) && /^MOVED\b/.test(message(error));
        if (isReplyError(error) && !redirected) throw error;
        if (Date.now() + 50 >= deadline) throw error;
        await this.refreshSlots();
        await sleep(Math.min(20 * 2 ** attempt, 500));
      }
    }
  }

  private schedulePlacement(delayMs: number): void {
    if (this.closed || this.retryTimer || this.placing) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.placing = this.placeUnplaced().finally(() => {
        this.placing = undefined;
        if (this.unplaced.size > 0) {
          this.retryDelay = Math.min(this.retryDelay * 2, 1_000);
          this.schedulePlacement(this.retryDelay);
        } else {
          this.retryDelay = 50;
        }
      });
    }, delayMs);
  }

  private async placeUnplaced(): Promise<void> {
    await this.refreshSlots();
    const placed: string[] = [];
    let lastError = '';
    for (const channel of [...this.unplaced]) {
      if (this.closed) return;
      if (!this.listeners.sharded.has(channel)) {
        this.unplaced.delete(channel);
        continue;
      }
      try {
        await this.placeShard(channel, Date.now() + this.timeoutMs);
        this.unplaced.delete(channel);
        placed.push(channel);
      } catch (error) {
        lastError = message(error);
      }
    }
    if (this.closed) return;
    if (placed.length > 0) for (const listener of this.resubscribeListeners) listener('sharded', placed);
    if (this.unplaced.size > 0) {
      for (const listener of this.errorListeners) listener('sharded', [...this.unplaced], lastError);
    }
  }
}

async function quit(connection: RedisConnection): Promise<void> {
  try {
    await withDeadline(connection.quit(), 1_000, 'QUIT');
  } catch {
    connection.disconnect();
  }
}

const hubs = new WeakMap<object, PubSubHub>();

/**
 * The hub of `client` (one per client), made on first use. Shared with
 * @redkit/cache, whose memory-tier invalidations ride the same subscriber
 * connections (a shared subscriber helper belongs in @redkit/core; it moves
 * there later).
 *
 * @example
 * ```ts
 * const hub = hubFor(redis, 2_000)
 * await hub.subscribe('sharded', 'app:{orders}', (message) => console.log(message))
 * ```
 */
export function hubFor(client: RedisConnection, timeoutMs: number): PubSubHub {
  const existing = hubs.get(client);
  if (existing && !existing.isClosed) return existing;
  const hub: PubSubHub = new PubSubHub(client, timeoutMs, () => {
    if (hubs.get(client) === hub) hubs.delete(client);
  });
  hubs.set(client, hub);
  return hub;
}
