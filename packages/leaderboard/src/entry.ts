import type { Period } from './periods.js';

/** A member's place on a board. */
export interface Entry<Metadata = never> {
  readonly member: string;
  readonly score: number;
  /** 1-based, in the read's rank style. */
  readonly rank: number;
  /** The member's metadata, when the leaderboard has a schema and metadata is stored. */
  readonly metadata?: Metadata;
}

/** What one board says after a submit. */
export interface BoardUpdate {
  /** The member's score on this board after the submit. */
  readonly score: number;
  /** Its score before, or null when it was new to this board. */
  readonly previous: number | null;
  /** 1-based rank after the submit, in the leaderboard's rank style. */
  readonly rank: number;
  /** Whether the score changed (a `best` submit that did not beat the stored score changes nothing). */
  readonly changed: boolean;
}

/** The outcome of `submit`: the first period's board at the top level, and every board under `periods`. */
export interface SubmitResult extends BoardUpdate {
  readonly member: string;
  readonly periods: Readonly<Partial<Record<Period, BoardUpdate>>>;
}

/** An exported member (export streams in storage order, so it carries no rank). */
export interface ExportedEntry<Metadata = never> {
  readonly member: string;
  readonly score: number;
  readonly metadata?: Metadata;
}
