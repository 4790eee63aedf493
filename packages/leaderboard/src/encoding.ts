import { ScoreRangeError } from './errors.js';

/** Integers up to this size are exact in a double (2^53). */
const exactLimit = 2 ** 53;

/**
 * How scores and tie-breaks share the 53 exact bits of a sorted-set score.
 * Read it from `leaderboard.precision`; it follows from `maxScore`,
 * `decimals` and `maxCombinedPeriods`.
 */
export interface Precision {
  /** Largest score (in absolute value) accepted, as configured. */
  readonly maxScore: number;
  /** Decimal places kept: scores are stored as whole multiples of 10^-decimals. */
  readonly decimals: number;
  /** Bits a score takes: enough for `maxScore × 10^decimals`. */
  readonly scoreBits: number;
  /** Bits left for the tie order of members with equal scores. */
  readonly tieBits: number;
  /**
   * Members that can hold one score on one board with a distinct tie
   * order (2^tieBits). Beyond that, the latest arrivals at that score share
   * the last tie value and are ordered by member name among themselves.
   */
  readonly tiesPerScore: number;
  /** Boards a `sum` combination may add up exactly (2^guard bits). */
  readonly maxCombinedPeriods: number;
  /**
   * Largest total a `sum` combination can hold exactly (in absolute value):
   * 2^scoreBits − 1 units, at least `maxScore`.
   */
  readonly maxCombinedScore: number;
}

/**
 * The composite score layout: `composite = level × slot + tie`, where `level`
 * is the score in units, negated for ascending boards so that a higher
 * composite always ranks first, and `tie` (0 … tiesPerScore − 1) orders
 * members with equal scores. `slot` is a power of two, so dividing by it is
 * exact, and every composite stays below 2^53 in absolute value.
 */
export class ScoreEncoding {
  readonly precision: Precision;
  /** `composite = level × slot + tie`. */
  readonly slot: number;
  /** Tie values are 0 … tieRange − 1 (≤ slot / maxCombinedPeriods, so sums never carry into the level). */
  readonly tieRange: number;
  /** Largest |level|. */
  readonly maxLevel: number;
  /** Written beside the boards; a leaderboard configured differently refuses to write to them. */
  readonly fingerprint: string;
  private readonly scale: number;
  private readonly sign: 1 | -1;

  constructor(order: 'asc' | 'desc', maxScore: number, decimals: number, maxCombinedPeriods: number) {
    this.scale = 10 ** decimals;
    this.sign = order === 'desc' ? 1 : -1;
    const maxLevel = Math.floor(maxScore * this.scale + 1e-9);
    const scoreBits = maxLevel.toString(2).length;
    const guardBits = Math.ceil(Math.log2(maxCombinedPeriods));
    const tieBits = 53 - scoreBits - guardBits;
    this.maxLevel = maxLevel;
    this.slot = 2 ** (53 - scoreBits);
    this.tieRange = 2 ** tieBits;
    this.precision = {
      maxScore: maxLevel / this.scale,
      decimals,
      scoreBits,
      tieBits,
      tiesPerScore: this.tieRange,
      maxCombinedPeriods: 2 ** guardBits,
      maxCombinedScore: (2 ** scoreBits - 1) / this.scale,
    };
    this.fingerprint = `lb1 ${order} ${decimals} ${scoreBits}`;
  }

  /**
   * The level of a score. Throws {@link ScoreRangeError} for a score that is
   * not finite, has more decimals than configured, or exceeds `maxScore`
   * (increments are checked the same way).
   */
  toLevel(score: number): number {
    if (typeof score !== 'number' || !Number.isFinite(score)) throw this.rangeError(score, 'not-finite');
    const scaled = score * this.scale;
    const units = Math.round(scaled);
    // Decimal inputs such as 0.1 + 0.2 are a few ulps off their intended value: accept that, reject real
    // extra digits. Whole-number boards need no tolerance.
    const tolerance = this.scale === 1 ? 0 : Math.max(1e-9, Math.abs(scaled) * 8 * Number.EPSILON);
    if (Math.abs(scaled - units) > tolerance) throw this.rangeError(score, 'decimals');
    if (Math.abs(units) > this.maxLevel) throw this.rangeError(score, 'range');
    // `+ 0` turns -0 into 0, which Redis would otherwise receive as "-0".
    return this.sign * units + 0;
  }

  /** The score of a level (the inverse of {@link toLevel}). */
  toScore(level: number): number {
    return (this.sign * level) / this.scale + 0;
  }

  /** The level of a composite score as Redis returns it. */
  levelOf(composite: string | number): number {
    return Math.floor(Number(composite) / this.slot);
  }

  /** The score of a composite score as Redis returns it. */
  scoreOf(composite: string | number): number {
    return this.toScore(this.levelOf(composite));
  }

  /** A composite score for a level and tie value (for bulk loads that bypass `submit`). */
  composite(level: number, tie: number): number {
    const value = level * this.slot + tie;
    if (Math.abs(value) >= exactLimit) throw new RangeError(`composite ${value} is beyond 2^53`);
    return value;
  }

  rangeError(score: number, reason: ScoreRangeError['reason']): ScoreRangeError {
    return new ScoreRangeError(score, reason, this.precision);
  }
}
