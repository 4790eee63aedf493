/**
 * The write side of a leaderboard: one `submit` applied to every current
 * board in one Lua call. It keeps the write plan (the keys and argument
 * template of the boards current now, reused until one rolls over), follows
 * the Redis server's clock when the plan lands in the wrong period, and
 * decodes the script's reply into a `SubmitResult`. Reads live in
 * `BoardReader`; `Leaderboard` validates input and picks the boards.
 */
import { type LuaScript, type RedisArg, RedkitError } from '@redkit/core';
import type { BoardKeys } from './board-keys.js';
import type { BoardUpdate, SubmitResult } from './entry.js';
import { BoardEncodingError } from './errors.js';
import type { ResolvedLeaderboardOptions, UpdatePolicy } from './options.js';
import type { PeriodClock } from './period-clock.js';
import { type Calendar, type Period, type PeriodSpan, spanAt } from './periods.js';
import type { BoardContext } from './reader.js';
import { submitScoreScript } from './scripts.js';

const policyCode: Record<UpdatePolicy, string> = { best: 'b', increment: 'i', replace: 'r' };
const styleCode = { ordinal: 'o', competition: 'c', dense: 'd' } as const;

/**
 * What a submit sends for the boards current at one time, reused until the
 * first of them rolls over. `args` is a template: each call copies it and
 * fills in the member, policy, level and metadata.
 */
interface WritePlan {
  /** The instants `[from, to)` every planned board covers. */
  readonly from: number;
  readonly to: number;
  readonly keys: readonly string[];
  readonly args: RedisArg[];
  readonly spans: readonly PeriodSpan[];
  /** `performance.now()` after which submits record the period boards in the registry again. */
  registerAfter: number;
}

/** Where the per-board arguments of submit-score start (0-based). */
const boardArgs = 7;

/**
 * How often a process records its current period boards in the registry
 * (which `remove` and `reset` read). Once would do, but a `reset` elsewhere
 * empties the registry: this bounds how long a board can stay unlisted.
 */
const registerEveryMs = 60_000;

/** Submits to the current boards of one leaderboard. */
export class BoardWriter {
  private readonly submitScore: LuaScript<string>;
  private plan: WritePlan | undefined;

  constructor(
    private readonly context: BoardContext,
    private readonly keys: BoardKeys,
    private readonly clock: PeriodClock,
    private readonly calendar: Calendar,
    private readonly options: ResolvedLeaderboardOptions,
  ) {
    const { encoding } = context;
    this.submitScore = submitScoreScript({
      fingerprint: encoding.fingerprint,
      maxLevel: encoding.maxLevel,
      slot: encoding.slot,
      tieRange: encoding.tieRange,
      firstWins: options.ties === 'first',
      dense: context.dense,
      style: styleCode[options.rankStyle],
    });
  }

  /**
   * Writes an encoded score level (and metadata JSON, or '') to every board
   * current now with `policy`, atomically, and returns each board's update.
   *
   * @throws ScoreRangeError when the total an increment would reach is out of range.
   * @throws BoardEncodingError when the boards were written with another encoding.
   */
  async submit(member: string, policy: UpdatePolicy, level: number, metadata: string): Promise<SubmitResult> {
    const started = performance.now();
    for (let attempt = 0; attempt < 3; attempt++) {
      const plan = this.writePlan();
      const args = plan.args.slice();
      if (performance.now() < plan.registerAfter) {
        for (let index = boardArgs + 1; index < args.length; index += 2) args[index] = 0;
      }
      args[0] = member;
      args[1] = policyCode[policy];
      args[2] = level;
      args[3] = metadata;
      const reply = await this.context.driver.script(this.submitScore, plan.keys, args, this.context.call);
      const kind = reply.charCodeAt(0);
      if (kind === 75 /* K */) {
        if (plan.registerAfter === 0 || performance.now() >= plan.registerAfter) {
          plan.registerAfter = performance.now() + registerEveryMs;
        }
        return this.submitted(member, plan, reply, started);
      }
      if (kind === 84 /* T */) {
        // Our estimate of the server's clock put the submit in another period: adopt the server's and retry.
        this.clock.learn(Number(reply.slice(2)));
        continue;
      }
      if (kind === 69 /* E */)
        throw new BoardEncodingError(this.context.name, reply.slice(2), this.context.encoding.fingerprint);
      const rejected = this.context.encoding.toScore(Number(reply.split(' ')[2]));
      this.context.events.emit('score-rejected', { member, score: rejected, reason: 'range' });
      throw this.context.encoding.rangeError(rejected, 'range');
    }
    throw new RedkitError('E_CLOCK', 'submit(): the Redis server clock kept moving to another period; try again');
  }

  /** Drops the plan, so the next submit records its boards in the registry again (after a `reset`). */
  forgetPlan(): void {
    this.plan = undefined;
  }

  /** The plan of the boards current now, rebuilt when one of them has rolled over. */
  private writePlan(): WritePlan {
    const now = this.clock.now();
    const plan = this.plan;
    if (plan && now >= plan.from && now < plan.to) return plan;
    const { keys, options } = this;
    const spans = this.options.periods.map((period) => spanAt(period, now, this.calendar));
    let from = -Infinity;
    let to = Infinity;
    let metadataExpiry = 0;
    const planKeys = [keys.encoding, keys.metadata, keys.registry];
    const perBoard: RedisArg[] = [];
    for (const span of spans) {
      const board = keys.board(span);
      planKeys.push(board);
      if (this.context.dense) planKeys.push(keys.levels(board));
      if (span.period === 'all-time') {
        perBoard.push(0, 0);
        continue;
      }
      from = Math.max(from, span.start);
      to = Math.min(to, span.end);
      const expireAt = span.end + options.retention[span.period];
      metadataExpiry = Math.max(metadataExpiry, expireAt);
      perBoard.push(expireAt, 1);
    }
    const checked = this.clock.checked && Number.isFinite(from);
    const args: RedisArg[] = [
      '', // member
      '', // policy
      0, // level
      '', // metadata
      checked ? from : '',
      checked ? to : '',
      this.options.periods.includes('all-time') ? '' : metadataExpiry,
      ...perBoard,
    ];
    this.plan = { from, to, keys: planKeys, args, spans, registerAfter: 0 };
    return this.plan;
  }

  private submitted(member: string, plan: WritePlan, reply: string, started: number): SubmitResult {
    const fields = reply.split(' ');
    const periods: Partial<Record<Period, BoardUpdate>> = {};
    let primary: BoardUpdate | undefined;
    for (let index = 0; index < plan.spans.length; index++) {
      const previous = fields[4 + 4 * index] as string;
      const update: BoardUpdate = {
        score: this.context.encoding.toScore(Number(fields[1 + 4 * index])),
        previous: previous === '-' ? null : this.context.encoding.toScore(Number(previous)),
        rank: Number(fields[2 + 4 * index]),
        changed: fields[3 + 4 * index] === '1',
      };
      periods[(plan.spans[index] as PeriodSpan).period] = update;
      primary ??= update;
    }
    const result: SubmitResult = { member, ...(primary as BoardUpdate), periods };
    if (this.context.events.listens('submitted')) {
      this.context.events.emit('submitted', {
        member,
        score: result.score,
        rank: result.rank,
        changed: result.changed,
        durationMs: performance.now() - started,
      });
    }
    return result;
  }
}
