import { Keyspace } from '@redkit/core';
import type { Period, PeriodSpan } from './periods.js';

const periodLetter: Record<Period, string> = { 'all-time': 'all', daily: 'd', weekly: 'w', monthly: 'm' };

/**
 * Every key of one leaderboard: `<namespace>:{<name>}:<part>`. The name is
 * the hash tag, so all boards, periods, combined boards and the metadata of
 * one leaderboard live in one cluster slot and any script may touch them all.
 */
export class BoardKeys {
  /** `<namespace>:{<name>}:` with the name escaped. */
  readonly prefix: string;
  /** Encoding marker (string). */
  readonly encoding: string;
  /** Member metadata (hash: member → JSON). */
  readonly metadata: string;
  /** Period and combined boards that exist (sorted set: key → expiry in ms), so remove/reset can find them. */
  readonly registry: string;

  constructor(namespace: string, name: string) {
    this.prefix = `${new Keyspace(namespace).key(name)}:`;
    this.encoding = `${this.prefix}enc`;
    this.metadata = `${this.prefix}meta`;
    this.registry = `${this.prefix}boards`;
  }

  /** The board (sorted set of composite scores) of one period span. */
  board(span: PeriodSpan): string {
    return span.period === 'all-time' ? `${this.prefix}all` : `${this.prefix}${periodLetter[span.period]}:${span.id}`;
  }

  /** A board's distinct-score index (sorted set: level → level), kept for dense ranks. */
  levels(board: string): string {
    return `${board}:lv`;
  }

  /** A combined board of the spans `first` … `last`. */
  combined(first: PeriodSpan, last: PeriodSpan, aggregate: string): string {
    return `${this.prefix}u:${periodLetter[first.period]}:${first.id}:${last.id}:${aggregate}`;
  }
}
