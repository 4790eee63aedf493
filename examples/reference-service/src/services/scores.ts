import type { RedisConnection } from '@redkit/core';
import { Leaderboard } from '@redkit/leaderboard';
import type { ServiceConfig } from '../config.js';
import type { Database } from '../db.js';

/**
 * Scores: every submission is kept in SQL (the record), the ranking lives in
 * a Redis leaderboard (ranks in O(log n), ties to whoever got there first).
 * The board can be rebuilt from SQL at any time, which is what `load` does
 * at start.
 */
export class Scores {
  readonly board;

  constructor(
    redis: RedisConnection,
    private readonly db: Database,
    config: ServiceConfig,
  ) {
    this.board = new Leaderboard({
      redis,
      namespace: `${config.namespace}:leaderboard`,
      name: 'arena',
      periods: ['all-time', 'daily'],
      // A player's best score counts; a worse one changes nothing.
      policy: 'best',
      maxScore: 1_000_000,
    });
  }

  /** Rebuilds the all-time board from the scores table. */
  async load(): Promise<void> {
    const rows = await this.db.query<{ user_id: string; best: number }>(
      'SELECT user_id, max(score)::int AS best FROM scores GROUP BY user_id ORDER BY min(at)',
    );
    for (const row of rows) await this.board.submit(row.user_id, row.best);
  }

  async submit(userId: string, score: number) {
    await this.db.query('INSERT INTO scores (user_id, score) VALUES ($1, $2)', [userId, score]);
    return this.board.submit(userId, score);
  }

  top(n = 10) {
    return this.board.top(n);
  }

  /** The user's entry and the players just above and below. */
  async me(userId: string) {
    const [entry, around] = await Promise.all([this.board.entry(userId), this.board.around(userId, 2)]);
    return { entry, around: around ?? [] };
  }
}
