/**
 * Shared lock machinery: pub/sub wake-ups, so a waiter retries as soon as the
 * lock it waits for is released instead of at its next poll.
 */
import type { RedisDriver, Subscriber } from '@redkit/core';

/** One caller waiting for resources to be released. */
export class Waiter {
  readonly ids: readonly string[];
  /** Set by a wake-up; cleared before each attempt. An attempt that failed while it was set retries at once. */
  signalled = false;
  /** Ends the current pause early; set while the waiter pauses. */
  wake: (() => void) | undefined;

  constructor(ids: readonly string[]) {
    this.ids = ids;
  }
}

/** After pub/sub failed (e.g. an ACL without SUBSCRIBE), how long waiters only poll before it is tried again. */
const resubscribeAfterMs = 30_000;

/**
 * Wakes waiters of this process when a holder releases a resource, through
 * one subscription per lock instance (its own connection, opened on the
 * first wait). Release scripts publish only while somebody waits on the
 * resource's hash tag, so uncontended locks never publish.
 *
 * A message names the released resources; each wakes the longest-waiting
 * caller of this process for that resource (a `*` prefix wakes them all: a
 * writer left, so every reader may enter). Waking one per process keeps a
 * release from stampeding every waiter into Redis; the one woken either gets
 * the lock or goes back to waiting for the next release. Pub/sub may lose
 * messages, so waiters also poll with backoff.
 */
export class WakeUps {
  readonly channel: string;
  private readonly driver: RedisDriver;
  private readonly queues = new Map<string, Waiter[]>();
  private readonly onError: (error: unknown) => void;
  private subscriber: Subscriber | undefined;
  private subscribing: Promise<boolean> | undefined;
  private failedAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(driver: RedisDriver, channel: string, onError: (error: unknown) => void) {
    this.driver = driver;
    this.channel = channel;
    this.onError = onError;
  }

  register(ids: readonly string[]): Waiter {
    const waiter = new Waiter(ids);
    for (const id of ids) {
      const queue = this.queues.get(id);
      if (queue) queue.push(waiter);
      else this.queues.set(id, [waiter]);
    }
    return waiter;
  }

  unregister(waiter: Waiter): void {
    waiter.wake = undefined;
    for (const id of waiter.ids) {
      const queue = this.queues.get(id);
      if (!queue) continue;
      const index = queue.indexOf(waiter);
      if (index >= 0) queue.splice(index, 1);
      if (queue.length === 0) this.queues.delete(id);
    }
  }

  /**
   * Resolves true once the subscription is live (right away after the first
   * time), false when pub/sub is unavailable and waiters must rely on polling.
   */
  subscribe(): Promise<boolean> {
    if (this.subscribing) return this.subscribing;
    if (this.closed || performance.now() - this.failedAt < resubscribeAfterMs) return Promise.resolve(false);
    const subscribing = this.openSubscription();
    this.subscribing = subscribing;
    void subscribing.then((ok) => {
      if (!ok && this.subscribing === subscribing) this.subscribing = undefined;
    });
    return subscribing;
  }

  async close(): Promise<void> {
    this.closed = true;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.subscribing = undefined;
    for (const queue of this.queues.values()) for (const waiter of queue) waiter.wake?.();
    if (subscriber) await subscriber.close();
  }

  /** Never rejects: without a subscription, waiters poll. */
  private async openSubscription(): Promise<boolean> {
    let subscriber: Subscriber | undefined;
    try {
      subscriber = this.driver.subscriber();
      await subscriber.subscribe(this.channel, (message) => this.onMessage(message));
    } catch (error) {
      this.failedAt = performance.now();
      this.onError(error);
      await subscriber?.close().catch(() => {});
      return false;
    }
    if (this.closed) {
      await subscriber.close().catch(() => {});
      return false;
    }
    // Messages sent while the connection was down are lost: let every waiter look again.
    subscriber.onReconnect(() => this.wakeAll());
    this.subscriber = subscriber;
    return true;
  }

  private onMessage(message: string): void {
    for (const line of message.split('\n')) {
      const all = line.startsWith('*');
      const queue = this.queues.get(all ? line.slice(1) : line);
      if (!queue) continue;
      for (const waiter of queue) {
        if (waiter.signalled) continue;
        waiter.signalled = true;
        waiter.wake?.();
        if (!all) break;
      }
    }
  }

  private wakeAll(): void {
    for (const queue of this.queues.values()) {
      for (const waiter of queue) {
        waiter.signalled = true;
        waiter.wake?.();
      }
    }
  }
}
