import type { ScoreRangeReason } from './errors.js';

/** Telemetry events of a `Leaderboard`. */
export type LeaderboardEvents = {
  /** A submit was applied. `rank` and `score` are those of the first period's board. */
  submitted: { member: string; score: number; rank: number; changed: boolean; durationMs: number };
  /** A submit was refused because its score (or the total it would reach) is outside the precision budget. */
  'score-rejected': { member: string; score: number; reason: ScoreRangeReason };
  /** Stored metadata no longer matches the schema; the read returned the entry without it. */
  'metadata-invalid': { member: string; error: string };
};
