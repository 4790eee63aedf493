import { InvalidOptionsError, RedisUnavailableError, RedkitError } from '@redkit/core';
import type { Precision } from './encoding.js';

/** Why a score was refused. */
export type ScoreRangeReason = 'not-finite' | 'decimals' | 'range' | 'combined';

const explanations: Record<ScoreRangeReason, (precision: Precision) => string> = {
  'not-finite': () => 'is not a finite number',
  decimals: (precision) =>
    precision.decimals === 0
      ? 'is not a whole number (set the `decimals` option to keep fractions)'
      : `has more than ${precision.decimals} decimal place${precision.decimals === 1 ? '' : 's'}`,
  range: (precision) =>
    `is outside ±${precision.maxScore} (the \`maxScore\` option; scores beyond it would lose precision in a double)`,
  combined: (precision) =>
    `is a combined total outside ±${precision.maxCombinedScore}, which a double cannot hold exactly beside the tie order`,
};

/**
 * A score (or the result of an increment, or a combined total) is outside the
 * leaderboard's precision budget (see `leaderboard.precision`). Nothing was
 * written: a score that would lose precision is refused instead of rounded.
 */
export class ScoreRangeError extends RedkitError {
  /** The score that was refused (for an increment: the total it would have reached). */
  readonly score: number;
  readonly reason: ScoreRangeReason;
  readonly precision: Precision;

  constructor(score: number, reason: ScoreRangeReason, precision: Precision) {
    super('E_SCORE_RANGE', `score ${score} ${explanations[reason](precision)}`);
    this.score = score;
    this.reason = reason;
    this.precision = precision;
  }
}

/**
 * The boards were written by a leaderboard with another score encoding (a
 * different `order`, `decimals`, or a `maxScore` that needs another number of
 * bits). Writing would mix two encodings and corrupt the ranking, so nothing
 * was written. Use the original settings, or `reset()` the leaderboard.
 */
export class BoardEncodingError extends RedkitError {
  /** The encoding the boards were written with. */
  readonly stored: string;
  /** The encoding of this leaderboard instance. */
  readonly expected: string;

  constructor(name: string, stored: string, expected: string) {
    super(
      'E_BOARD_ENCODING',
      `leaderboard ${JSON.stringify(name)} was written with encoding "${stored}", this instance uses "${expected}" ` +
        '(order, decimals and the bit width of maxScore must not change while data exists)',
    );
    this.stored = stored;
    this.expected = expected;
  }
}

/** Errors thrown by @redkit/leaderboard, for `instanceof` checks. */
export const errors = {
  ScoreRangeError,
  BoardEncodingError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
