import type { RedisDriver, Subscriber } from '@redkit/core';

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
 * Invalidations over Redis pub/sub (on a cluster, PUBLISH reaches every
 * node's subscribers). Scripts publish `k|<version>|<key>` on every write and
 * delete, `t|<version>|<tag>` on tag invalidations, and `clear()` publishes
 * `c|0|`. The bus also wakes callers waiting for another process's load.
 */
export class InvalidationBus {
  private subscriber: Subscriber | undefined;
  private starting: Promise<void> | undefined;
  private subscribed = false;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly driver: RedisDriver,
    private readonly channel: string,
    private readonly handlers: BusHandlers,
  ) {}

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
    if (!this.subscriber) {
      this.subscriber = this.driver.subscriber();
      this.subscriber.onReconnect(() => this.handlers.reset());
    }
    await this.subscriber.subscribe(this.channel, (message) => this.receive(message));
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
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.subscribed = false;
    await subscriber?.close();
  }
}
