import { LRUCache } from 'lru-cache';

/**
 * Remembers subjects that Redis denied, until the time Redis said they may
 * retry, so their requests skip Redis meanwhile. It only ever denies, and an
 * entry expires no later than Redis's own retry time (measured from before the
 * call was sent), so it never admits what Redis would deny, and never denies
 * for longer than Redis would.
 */
export class DeniedCache {
  private readonly entries: LRUCache<string, { until: number; cost: number }>;

  constructor(maxSubjects: number) {
    this.entries = new LRUCache({ max: maxSubjects });
  }

  /** The ms left of a cached denial covering a request of `cost`, or 0. */
  deniedFor(subject: string, cost: number, now: number): number {
    const entry = this.entries.get(subject);
    if (!entry) return 0;
    if (entry.until <= now) {
      this.entries.delete(subject);
      return 0;
    }
    // A denial of a cheaper request says nothing certain about a dearer one, and vice versa.
    return cost >= entry.cost ? entry.until - now : 0;
  }

  remember(subject: string, cost: number, sentAt: number, retryAfterMs: number): void {
    if (retryAfterMs <= 0) return;
    this.entries.set(subject, { until: sentAt + retryAfterMs, cost });
  }

  forget(subject: string): void {
    this.entries.delete(subject);
  }
}
