/**
 * Acknowledging processed messages in batches: the acks of handlers that
 * finish in the same tick go out as one XACK with many ids, one round trip
 * instead of one per message, and the `processed` events follow once it
 * succeeded. The consumer's `stop()` waits for the acks still on their way.
 */
import type { QueueEvents } from '../events.js';
import type { MessageSchema } from '../options.js';
import type { StreamQueue } from './stream-queue.js';

/** The acks of one tick: one XACK, one promise, and the `processed` events to emit once it succeeded. */
interface AckBatch {
  readonly ids: string[];
  readonly processed: { attempt: number; durationMs: number }[];
  readonly done: Promise<boolean>;
  resolve(ok: boolean): void;
}

/** The acks of one consumer, one XACK per tick. */
export class AckBatcher {
  /** Acks of finished handlers still on their way: their slots are free already; stop() waits for them. */
  readonly settling = new Set<Promise<void>>();
  /** Ids to acknowledge at the end of this tick, and the one promise all their callers wait on. */
  private acks: AckBatch | undefined;

  constructor(
    private readonly queue: StreamQueue<MessageSchema | undefined>,
    private readonly group: string,
    private readonly reportError: (step: QueueEvents['error']['step'], error: unknown, ids?: readonly string[]) => void,
  ) {}

  /**
   * Acknowledges an entry. Acks of handlers that finish in the same tick go
   * out as one XACK with many ids: one round trip instead of one per message.
   */
  ack(id: string, processed?: { attempt: number; durationMs: number }): Promise<boolean> {
    let batch = this.acks;
    if (batch === undefined) {
      let resolve: (ok: boolean) => void = () => {};
      const done = new Promise<boolean>((r) => {
        resolve = r;
      });
      const created: AckBatch = { ids: [], processed: [], done, resolve };
      batch = created;
      this.acks = created;
      // stop() waits for acks on their way, whose handlers no longer hold a slot.
      const settled = done.then(() => {
        this.settling.delete(settled);
      });
      this.settling.add(settled);
      setImmediate(() => void this.flush());
    }
    batch.ids.push(id);
    if (processed) batch.processed.push(processed);
    return batch.done;
  }

  private async flush(): Promise<void> {
    const batch = this.acks;
    this.acks = undefined;
    if (batch === undefined) return;
    const { driver, call, events } = this.queue;
    let ok = true;
    try {
      await driver.command('XACK', [this.queue.keys.stream, this.group, ...batch.ids], call);
    } catch (error) {
      // Left pending: another consumer claims them after the visibility timeout and runs them again (at least once).
      this.reportError('ack', error, batch.ids);
      ok = false;
    }
    if (ok && events.listens('processed')) {
      const { stream } = this.queue;
      for (const { attempt, durationMs } of batch.processed) {
        events.emit('processed', { stream, group: this.group, attempt, durationMs });
      }
    }
    batch.resolve(ok);
  }
}
