import { parseOptions } from '@redkit/core';
import type { z } from 'zod';
import type { Entry } from './entry.js';
import { readOptionsSchema } from './options.js';
import type { PeriodSpan } from './periods.js';
import type { BoardReader, ReadSettings, ReadTarget } from './reader.js';

const combinedReadSchema = readOptionsSchema.pick({ rankStyle: true, metadata: true }).strict();

/** Options of reads on a combined board. */
export type CombinedReadOptions = z.input<typeof combinedReadSchema>;

/**
 * Several period boards read as one, e.g. the last seven daily boards (see
 * `Leaderboard.combine`). Each read is one script call: it builds the
 * combined board with ZUNIONSTORE into a temporary key when that key is not
 * cached, then reads it. The key shares the leaderboard's hash tag, so this
 * works on Redis Cluster.
 */
export class CombinedBoard<Metadata = never> {
  /** The period boards combined, oldest first. */
  readonly spans: readonly PeriodSpan[];
  /** `sum` or `best`. */
  readonly aggregate: 'sum' | 'best';
  /** The temporary key the combination is cached in. */
  readonly key: string;
  private readonly reader: BoardReader<Metadata>;
  private readonly target: ReadTarget;

  /** @internal Made by `Leaderboard.combine`. */
  constructor(reader: BoardReader<Metadata>, target: ReadTarget, spans: PeriodSpan[], aggregate: 'sum' | 'best') {
    this.reader = reader;
    this.target = target;
    this.spans = spans;
    this.aggregate = aggregate;
    this.key = target.keys[0] as string;
  }

  private settings(options: CombinedReadOptions | undefined, context: string): ReadSettings | undefined {
    if (options === undefined) return undefined;
    const parsed = parseOptions(combinedReadSchema, options, context);
    return this.reader.settings(parsed.rankStyle, parsed.metadata, context);
  }

  /** The best `n` entries (1 … 1000). */
  async top(n: number, options?: CombinedReadOptions): Promise<Entry<Metadata>[]> {
    return this.reader.top(this.target, n, this.settings(options, 'top()'));
  }

  /** Page `index` (0-based) of `size` entries (1 … 1000). */
  async page(index: number, size: number, options?: CombinedReadOptions): Promise<Entry<Metadata>[]> {
    return this.reader.page(this.target, index, size, this.settings(options, 'page()'));
  }

  /** The member and `radius` entries on each side (shifted at the edges); null when absent. */
  async around(member: string, radius: number, options?: CombinedReadOptions): Promise<Entry<Metadata>[] | null> {
    return this.reader.around(this.target, member, radius, this.settings(options, 'around()'));
  }

  /** The member's rank (1-based), or null when absent. */
  async rank(member: string, options?: Pick<CombinedReadOptions, 'rankStyle'>): Promise<number | null> {
    return this.reader.rank(this.target, member, this.settings(options, 'rank()'));
  }

  /** The member's combined score, or null when absent. */
  async score(member: string): Promise<number | null> {
    return this.reader.score(this.target, member);
  }

  /** The member's entry, or null when absent. */
  async entry(member: string, options?: CombinedReadOptions): Promise<Entry<Metadata> | null> {
    return this.reader.entry(this.target, member, this.settings(options, 'entry()'));
  }

  /** The member's percentile rank, `100 × (below + equal / 2) / count`, or null when absent. */
  async percentile(member: string): Promise<number | null> {
    return this.reader.percentile(this.target, member);
  }

  /** How many members appear in any of the combined boards. */
  async count(): Promise<number> {
    return this.reader.count(this.target);
  }
}
