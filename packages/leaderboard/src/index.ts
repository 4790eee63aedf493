export { CombinedBoard, type CombinedReadOptions } from './combined-board.js';
export type { Precision } from './encoding.js';
export type { BoardUpdate, Entry, ExportedEntry, SubmitResult } from './entry.js';
export { BoardEncodingError, errors, ScoreRangeError, type ScoreRangeReason } from './errors.js';
export type { LeaderboardEvents } from './events.js';
export { Leaderboard } from './leaderboard.js';
export {
  type BoardOptions,
  boardOptionsSchema,
  type CombineOptions,
  combineOptionsSchema,
  type ExportOptions,
  exportOptionsSchema,
  type LeaderboardOptions,
  leaderboardOptionsSchema,
  type MetadataInputOf,
  type MetadataOf,
  type MetadataSchema,
  type RankStyle,
  type ReadOptions,
  readOptionsSchema,
  type SubmitOptions,
  submitOptionsSchema,
  type UpdatePolicy,
} from './options.js';
export type { Period, PeriodSpan, RollingPeriod } from './periods.js';
