export { keysOf, seededRandom as random, sleep } from '@redkit/testing';

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public ms: number) {}
  readonly now = () => this.ms;
  set(value: string | number): void {
    this.ms = typeof value === 'number' ? value : Date.parse(value);
  }
}

export type Style = 'ordinal' | 'competition' | 'dense';

/**
 * The straightforward in-memory leaderboard the tests compare with: members
 * in arrival order per score, sorted on every read, ranks counted by hand.
 */
export class ReferenceBoard {
  private readonly members = new Map<string, { score: number; arrival: number }>();
  private arrivals = 0;

  constructor(
    private readonly order: 'asc' | 'desc',
    private readonly ties: 'first' | 'last',
  ) {}

  submit(member: string, score: number, policy: 'best' | 'increment' | 'replace'): void {
    const current = this.members.get(member);
    let next: number;
    if (policy === 'increment') next = (current?.score ?? 0) + score;
    else if (policy === 'best' && current) next = this.better(current.score, score) ? current.score : score;
    else next = score;
    if (current && current.score === next) return;
    this.members.set(member, { score: next, arrival: this.arrivals++ });
  }

  remove(member: string): void {
    this.members.delete(member);
  }

  /** Whether a ranks strictly better than b, by score alone. */
  private better(a: number, b: number): boolean {
    return this.order === 'desc' ? a > b : a < b;
  }

  sorted(): { member: string; score: number }[] {
    return [...this.members]
      .sort(([, a], [, b]) => {
        if (a.score !== b.score) return this.better(a.score, b.score) ? -1 : 1;
        return this.ties === 'first' ? a.arrival - b.arrival : b.arrival - a.arrival;
      })
      .map(([member, { score }]) => ({ member, score }));
  }

  /** Every member with its rank in `style`, best first. */
  ranked(style: Style): { member: string; score: number; rank: number }[] {
    const sorted = this.sorted();
    let dense = 0;
    let competition = 0;
    return sorted.map((entry, index) => {
      const previous = sorted[index - 1];
      if (!previous || previous.score !== entry.score) {
        dense++;
        competition = index + 1;
      }
      const rank = style === 'ordinal' ? index + 1 : style === 'competition' ? competition : dense;
      return { ...entry, rank };
    });
  }

  percentile(member: string): number | null {
    const entry = this.members.get(member);
    if (!entry) return null;
    let below = 0;
    let equal = 0;
    for (const { score } of this.members.values()) {
      if (score === entry.score) equal++;
      else if (this.better(entry.score, score)) below++;
    }
    return (100 * (below + equal / 2)) / this.members.size;
  }

  get size(): number {
    return this.members.size;
  }
}
