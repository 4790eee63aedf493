/**
 * Moving due retries back onto the stream: a failed message waits for its
 * backoff in the delayed set, and this timer moves those that are due (in
 * batches) as soon as the earliest one is, or every `promoteInterval`.
 */
import type { QueueEvents } from '../events.js';
import type { MessageSchema } from '../options.js';
import { promoteDue } from './scripts.js';
import type { StreamQueue } from './stream-queue.js';

/** Most entries moved per promote call; more are moved by the next call right away. */
const promoteBatch = 100;

/** The promoter of one consumer: a timer set for the earliest due retry. */
export class RetryPromoter {
  private timer: NodeJS.Timeout | undefined;
  private at = Number.POSITIVE_INFINITY;
  private promoting = false;

  constructor(
    private readonly queue: StreamQueue<MessageSchema | undefined>,
    /** The longest wait between two runs (`promoteInterval`). */
    private readonly intervalMs: number,
    private readonly isRunning: () => boolean,
    private readonly reportError: (step: QueueEvents['error']['step'], error: unknown) => void,
  ) {}

  /** Runs the promoter in `ms` unless it already runs sooner. */
  schedule(ms: number): void {
    if (!this.isRunning()) return;
    const at = Date.now() + ms;
    if (this.timer !== undefined && at >= this.at) return;
    clearTimeout(this.timer);
    this.at = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.at = Number.POSITIVE_INFINITY;
      void this.promote();
    }, ms);
  }

  /** Cancels the next run (on stop). */
  cancel(): void {
    clearTimeout(this.timer);
  }

  private async promote(): Promise<void> {
    if (this.promoting || !this.isRunning()) return;
    this.promoting = true;
    const { keys, driver, call, events } = this.queue;
    let next = this.intervalMs;
    try {
      for (;;) {
        const [moved, wait] = await driver.script(
          promoteDue,
          [keys.stream, keys.delayed, keys.delayedData],
          [promoteBatch],
          call,
        );
        if (moved > 0) events.emit('promoted', { stream: this.queue.stream, count: moved });
        if (moved < promoteBatch || !this.isRunning()) {
          if (wait >= 0) next = Math.min(next, wait);
          break;
        }
      }
    } catch (error) {
      this.reportError('promote', error);
    } finally {
      this.promoting = false;
    }
    this.schedule(next);
  }
}
