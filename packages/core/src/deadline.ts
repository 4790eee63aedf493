import { RedisUnavailableError } from './errors.js';

/** A call waiting for its result or its deadline, whichever comes first. */
interface Pending {
  readonly deadline: number;
  settled: boolean;
  readonly expire: () => void;
}

/**
 * Deadlines of one length, in the order they were set, which is also the order
 * they expire in. One timer serves them all: it fires at the earliest live
 * deadline, fails what has expired, and re-arms for the next. A per-call
 * setTimeout/clearTimeout pair costs more than the rest of a fast Redis call.
 */
class DeadlineQueue {
  private entries: Pending[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  add(expire: () => void): Pending {
    const entry: Pending = { deadline: performance.now() + this.timeoutMs, settled: false, expire };
    this.entries.push(entry);
    if (!this.timer) this.arm(entry.deadline);
    return entry;
  }

  /** Marks an entry done; drops settled entries from the front so the queue stays short. */
  settle(entry: Pending): void {
    entry.settled = true;
    while (this.head < this.entries.length && (this.entries[this.head] as Pending).settled) this.head++;
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  private arm(deadline: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, Math.ceil(deadline - performance.now())));
    // A pending call keeps its own connection alive; the timer must not keep the process up.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head] as Pending;
      if (!entry.settled) {
        if (entry.deadline > now) break;
        entry.settled = true;
        entry.expire();
      }
      this.head++;
    }
    if (this.head < this.entries.length) this.arm((this.entries[this.head] as Pending).deadline);
    else {
      this.entries = [];
      this.head = 0;
    }
  }
}

const queues = new Map<number, DeadlineQueue>();

/**
 * Rejects with {@link RedisUnavailableError} (`timedOut: true`) when `promise`
 * has not settled within `timeoutMs`. The work behind the promise is not
 * cancelled; callers must treat its outcome as unknown and not repeat
 * non-idempotent work.
 */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let queue = queues.get(timeoutMs);
  if (!queue) {
    queue = new DeadlineQueue(timeoutMs);
    queues.set(timeoutMs, queue);
  }
  const deadlines = queue;
  return new Promise<T>((resolve, reject) => {
    const entry = deadlines.add(() => {
      reject(new RedisUnavailableError(`${what} did not complete within ${timeoutMs}ms`, { timedOut: true }));
    });
    promise.then(
      (value) => {
        if (entry.settled) return;
        deadlines.settle(entry);
        resolve(value);
      },
      (error: unknown) => {
        if (entry.settled) return;
        deadlines.settle(entry);
        reject(error);
      },
    );
  });
}
