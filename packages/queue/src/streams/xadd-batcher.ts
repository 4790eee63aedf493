/**
 * Tick batching of single adds: every XADD of one tick goes out as one
 * pipeline, one socket write for many adds (what ioredis's auto-pipelining
 * does, without asking for it on the user's client). Apart from
 * `StreamQueue` because it is a transport concern, not a queue one.
 */
import type { CallOptions, RedisDriver } from '@redkit/core';

interface PendingAdd {
  readonly data: string;
  readonly id: string;
  readonly resolve: (id: string) => void;
  readonly reject: (error: unknown) => void;
}

/** The XADDs of one stream, sent one pipeline per tick. */
export class XaddBatcher {
  /** Adds waiting for the end of the current tick, to go out as one pipeline. */
  private pendingAdds: PendingAdd[] | undefined;

  constructor(
    private readonly driver: RedisDriver,
    private readonly stream: string,
    private readonly call: CallOptions | undefined,
  ) {}

  /**
   * One XADD, sent together with the other adds of the same tick as one
   * pipeline. Each add still gets its own id or error, in order.
   */
  add(data: string, id: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.pendingAdds === undefined) {
        this.pendingAdds = [];
        queueMicrotask(() => this.flush());
      }
      this.pendingAdds.push({ data, id, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.pendingAdds ?? [];
    this.pendingAdds = undefined;
    if (batch.length === 1) {
      const [only] = batch as [PendingAdd];
      this.driver
        .command<string>('XADD', [this.stream, only.id, 'd', only.data], this.call)
        .then(only.resolve, only.reject);
      return;
    }
    this.driver
      .pipeline(
        batch.map(({ data, id }) => ['XADD', this.stream, id, 'd', data] as const),
        this.call,
      )
      .then(
        (replies) => {
          replies.forEach(([error, reply], index) => {
            const add = batch[index] as PendingAdd;
            if (error) add.reject(error);
            else add.resolve(String(reply));
          });
        },
        (error: unknown) => {
          for (const add of batch) add.reject(error);
        },
      );
  }
}
