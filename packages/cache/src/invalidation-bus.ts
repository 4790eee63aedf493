import { isCluster, RedisCommandError, type RedisConnection } from '@redkit/core';
import { hubFor, type PubSubHub, type RawListener } from '@redkit/queue';
import { ShardChannels } from './invalidation-channels.js';

/** What the bus tells the cache. */
export interface BusHandlers {
  /** An entry was written or deleted (by any process) at `version`. */
  key(redisKey: string, version: number): void;
  /** A tag was invalidated at `version`. */
  tag(tag: string, version: number): void;
  /** The namespace was cleared. */
  clear(): void;
  /** The subscriber reconnected: messages may have been lost. */
  reset(): void;
}

/**
 * Invalidations over Redis pub/sub. Scripts publish `k|<version>|<key>` on
 * every write and delete, `t|<version>|<tag>` on tag invalidations, and
 * `clear()` publishes `c|0|`: on a standalone server on the namespace's
 * classic channel; on a cluster on a shard channel of the writing node (see
 * {@link ShardChannels}), falling back to the classic channel. The bus
 * listens on both, through @redkit/queue's subscriber hub (one connection for
 * classic channels, one per master for shard channels, moved on failover).
 * It also wakes callers waiting for another process's load.
 */
export class InvalidationBus {
  private hub: PubSubHub | undefined;
  private offResubscribe: (() => void) | undefined;
  private starting: Promise<void> | undefined;
  private subscribed = false;
  /** Shard channels refused by the server (Redis < 7, or an ACL without them): the classic channel serves alone. */
  private shardsRefused = false;
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly listener: RawListener = (message) => this.receive(message);
  /** The shard channels, on a cluster. */
  private readonly shards: ShardChannels | undefined;

  /**
   * @param channel the namespace's classic channel.
   * @param timeoutMs how long a subscription may take to be confirmed.
   */
  constructor(
    private readonly client: RedisConnection,
    private readonly timeoutMs: number,
    private readonly channel: string,
    private readonly handlers: BusHandlers,
  ) {
    this.shards = isCluster(client) ? new ShardChannels(channel, client) : undefined;
  }

  /** The shard channel a script announces a write of `redisKey` on ('' for the classic channel alone). */
  shardChannelFor(redisKey: string): string {
    return this.shards?.for(redisKey) ?? '';
  }

  /** True once the subscription is confirmed (before that, no message is guaranteed). */
  get ready(): boolean {
    return this.subscribed;
  }

  /** Subscribes once; a failure is retried by the next call. Never rejects. */
  start(): Promise<void> {
    this.starting ??= this.subscribe().catch(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async subscribe(): Promise<void> {
    if (!this.hub || this.hub.isClosed) {
      this.offResubscribe?.();
      const hub = hubFor(this.client, this.timeoutMs);
      this.hub = hub;
      const ours = new Set([this.channel, ...(this.shards?.all ?? [])]);
      this.offResubscribe = hub.onResubscribe((_kind, names) => {
        if (names.some((name) => ours.has(name))) this.handlers.reset();
      });
    }
    const hub = this.hub;
    // Adding the same listener again is a no-op, so a retried start subscribes only what is missing.
    await hub.subscribe('classic', this.channel, this.listener);
    if (this.shards && !this.shardsRefused) {
      try {
        await Promise.all(this.shards.all.map((name) => hub.subscribe('sharded', name, this.listener)));
      } catch (error) {
        if (!(error instanceof RedisCommandError)) throw error;
        // Writes fall back to the classic channel when SPUBLISH fails or nobody hears it.
        this.shardsRefused = true;
        await Promise.all(this.shards.all.map((name) => hub.unsubscribe('sharded', name, this.listener)));
      }
    }
    this.subscribed = true;
  }

  private receive(message: string): void {
    const first = message.indexOf('|');
    const second = message.indexOf('|', first + 1);
    if (first < 0 || second < 0) return;
    const kind = message.slice(0, first);
    const version = Number(message.slice(first + 1, second));
    const subject = message.slice(second + 1);
    if (kind === 'k') {
      this.handlers.key(subject, version);
      const waiting = this.waiters.get(subject);
      if (waiting) {
        this.waiters.delete(subject);
        for (const wake of waiting) wake();
      }
    } else if (kind === 't') {
      this.handlers.tag(subject, version);
    } else if (kind === 'c') {
      this.handlers.clear();
    }
  }

  /** Resolves when a write of `redisKey` is announced, or after `ms`. */
  waitFor(redisKey: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(redisKey);
      if (!set) {
        set = new Set();
        this.waiters.set(redisKey, set);
      }
      const timer = setTimeout(() => {
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(redisKey) === set) this.waiters.delete(redisKey);
        resolve();
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      set.add(wake);
    });
  }

  async close(): Promise<void> {
    for (const set of this.waiters.values()) for (const wake of set) wake();
    this.waiters.clear();
    const hub = this.hub;
    this.hub = undefined;
    this.subscribed = false;
    this.offResubscribe?.();
    this.offResubscribe = undefined;
    if (!hub) return;
    const names = [this.channel, ...(this.shards && !this.shardsRefused ? this.shards.all : [])];
    await Promise.all(
      names.map((name, index) => hub.unsubscribe(index === 0 ? 'classic' : 'sharded', name, this.listener)),
    );
  }
}
