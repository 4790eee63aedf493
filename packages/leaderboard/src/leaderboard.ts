import {
  InvalidOptionsError,
  parseField,
  parseOptions,
  startPattern,
  TelemetryEmitter,
  warnIfEvictable,
} from '@redkit/core';
import { BoardKeys } from './board-keys.js';
import { CombinedBoard } from './combined-board.js';
import { type Precision, ScoreEncoding } from './encoding.js';
import type { Entry, ExportedEntry, SubmitResult } from './entry.js';
import { ScoreRangeError } from './errors.js';
import type { LeaderboardEvents } from './events.js';
import {
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
  type ReadOptions,
  type ResolvedLeaderboardOptions,
  readOptionsSchema,
  type SubmitOptions,
  submitOptionsSchema,
} from './options.js';
import { PeriodClock } from './period-clock.js';
import { type Calendar, type Period, type PeriodSpan, spanAt, spansBetween, toInstant } from './periods.js';
import { type BoardContext, BoardReader, checkMember, type ReadSettings, type ReadTarget } from './reader.js';
import { removeMember, scanBoard, trimBoard } from './scripts.js';
import { BoardWriter } from './writer.js';

/** Most periods a `best` combination may span (a `sum` is bounded by `maxCombinedPeriods`). */
const maxBestPeriods = 1000;

/** A board and the settings of one read on it. */
interface Read {
  readonly target: ReadTarget;
  readonly settings: ReadSettings | undefined;
}

/** A board resolved from `{ period, at }`; as a {@link Read}, one with the default settings. */
interface BoardRef extends Read {
  readonly span: PeriodSpan;
  readonly board: string;
  readonly settings: undefined;
}

function invalid(path: string, message: string, context: string): InvalidOptionsError {
  return new InvalidOptionsError([{ path, message }], { context });
}

/**
 * A leaderboard: one sorted set per board (all-time, and the current day,
 * week or month), updated together by every submit in one Lua call.
 *
 * - Updates: `best` keeps the better score, `increment` adds, `replace`
 *   overwrites; each returns the new score and rank atomically.
 * - Ties are deterministic: among equal scores the member who reached the
 *   score first ranks first (or last, with `ties: 'last'`), encoded in the
 *   sorted-set score within a documented precision budget (`precision`).
 * - Reads (`top`, `page`, `around`, `rank`, `score`, `entry`, `count`,
 *   `percentile`) are one round trip each, in ordinal, competition or dense
 *   rank style, with typed metadata from the same call.
 *
 * @example
 * ```ts
 * const board = new Leaderboard({ redis, name: 'arena', periods: ['all-time', 'daily'], timeZone: 'Europe/Paris' })
 * const { score, rank } = await board.submit('alice', 1200)
 * const mine = await board.around('alice', 5, { period: 'daily' })
 * ```
 */
export class Leaderboard<Schema extends MetadataSchema | undefined = undefined> {
  readonly name: string;
  /** The boards every submit updates; reads default to the first. */
  readonly periods: readonly Period[];
  /** The precision budget: score range, tie capacity, combinable periods. */
  readonly precision: Precision;
  /** Typed telemetry: `submitted`, `score-rejected`, `metadata-invalid`. */
  readonly events: TelemetryEmitter<LeaderboardEvents>;
  private readonly options: ResolvedLeaderboardOptions;
  private readonly context: BoardContext;
  private readonly reader: BoardReader<MetadataOf<Schema>>;
  private readonly keys: BoardKeys;
  private readonly encoding: ScoreEncoding;
  private readonly calendar: Calendar;
  private readonly clock: PeriodClock;
  private readonly writer: BoardWriter;
  /** The boards of the current periods, by period, for reads without `at`. */
  private readonly current = new Map<Period, BoardRef>();

  constructor(options: LeaderboardOptions<Schema>) {
    const start = startPattern(leaderboardOptionsSchema, options, { context: 'Leaderboard' });
    this.options = start.options;
    const { order, maxScore, decimals, maxCombinedPeriods, periods, timeZone, weekStartsOn } = this.options;
    this.name = this.options.name;
    this.periods = periods;
    this.keys = new BoardKeys(this.options.namespace, this.name);
    this.encoding = new ScoreEncoding(order, maxScore, decimals, maxCombinedPeriods);
    this.precision = this.encoding.precision;
    this.calendar = { timeZone, weekStartsOn };
    this.clock = new PeriodClock(this.options.clock);
    this.events = new TelemetryEmitter<LeaderboardEvents>('leaderboard');
    const { driver } = start;
    this.context = {
      name: this.name,
      driver,
      encoding: this.encoding,
      schema: this.options.metadata,
      dense: this.options.rankStyle === 'dense',
      rankStyle: this.options.rankStyle,
      events: this.events,
      call: start.call,
    };
    this.reader = new BoardReader(this.context);
    this.writer = new BoardWriter(this.context, this.keys, this.clock, this.calendar, this.options);
    // Boards are data: evicting them loses scores. Say so once if the server may.
    void warnIfEvictable(driver, 'leaderboard');
  }

  /**
   * Applies a score to every board of the leaderboard at once, with the
   * leaderboard's update policy (or `options.policy`), and returns the new
   * score and rank of each, atomically (one Lua call).
   *
   * @throws ScoreRangeError when the score, or the total an increment would
   *   reach, is outside the precision budget; nothing is written.
   * @throws BoardEncodingError when the boards were written with another encoding.
   */
  async submit(member: string, score: number, options?: SubmitOptions<MetadataInputOf<Schema>>): Promise<SubmitResult> {
    checkMember(member, 'submit()');
    let policy = this.options.policy;
    let metadata = '';
    if (options !== undefined) {
      const parsed = parseOptions(submitOptionsSchema, options, 'submit()');
      if (parsed.policy) policy = parsed.policy;
      if (parsed.metadata !== undefined) metadata = this.encodeMetadata(parsed.metadata);
    }
    if (typeof score !== 'number') throw invalid('score', 'must be a number', 'submit()');
    let level: number;
    try {
      level = this.encoding.toLevel(score);
    } catch (error) {
      if (error instanceof ScoreRangeError) this.events.emit('score-rejected', { member, score, reason: error.reason });
      throw error;
    }
    return this.writer.submit(member, policy, level, metadata);
  }

  /** The best `n` entries (1 … 1000). */
  async top(n: number, options?: ReadOptions): Promise<Entry<MetadataOf<Schema>>[]> {
    const read = this.read(options, 'top()');
    return this.reader.top(read.target, n, read.settings);
  }

  /** Page `index` (0-based) of `size` entries (1 … 1000). */
  async page(index: number, size: number, options?: ReadOptions): Promise<Entry<MetadataOf<Schema>>[]> {
    const read = this.read(options, 'page()');
    return this.reader.page(read.target, index, size, read.settings);
  }

  /**
   * The member and `radius` entries on each side of it (0 … 499), in one
   * round trip. The window keeps `2 × radius + 1` entries at the top and
   * bottom of the board by shifting (the member is then not in the middle).
   * Null when the member is not on the board.
   */
  async around(member: string, radius: number, options?: ReadOptions): Promise<Entry<MetadataOf<Schema>>[] | null> {
    const read = this.read(options, 'around()');
    return this.reader.around(read.target, member, radius, read.settings);
  }

  /** The member's rank (1-based, in the read's rank style), or null when absent. */
  async rank(member: string, options?: Omit<ReadOptions, 'metadata'>): Promise<number | null> {
    const read = this.read(options, 'rank()');
    return this.reader.rank(read.target, member, read.settings);
  }

  /** The member's score, or null when absent. */
  async score(member: string, options?: BoardOptions): Promise<number | null> {
    return this.reader.score(this.read(options, 'score()').target, member);
  }

  /** The member's entry (score, rank, metadata) in one round trip, or null when absent. */
  async entry(member: string, options?: ReadOptions): Promise<Entry<MetadataOf<Schema>> | null> {
    const read = this.read(options, 'entry()');
    return this.reader.entry(read.target, member, read.settings);
  }

  /**
   * The member's percentile rank: `100 × (below + equal / 2) / count`, where
   * `below` counts members with a worse score and `equal` those with the same
   * score (the member included). Null when absent.
   */
  async percentile(member: string, options?: BoardOptions): Promise<number | null> {
    return this.reader.percentile(this.read(options, 'percentile()').target, member);
  }

  /** How many members the board has. */
  async count(options?: BoardOptions): Promise<number> {
    return this.reader.count(this.read(options, 'count()').target);
  }

  /**
   * Several period boards read as one: the periods containing `from` through
   * `to`, scores added (`sum`) or the best kept (`best`). The combination is
   * built by the first read with ZUNIONSTORE into a temporary key of this
   * leaderboard's hash tag and cached for `cache` (default `combineCache`).
   * Nothing is sent until a read.
   */
  combine(options: CombineOptions): CombinedBoard<MetadataOf<Schema>> {
    const parsed = parseOptions(combineOptionsSchema, options, 'combine()');
    if (!this.periods.includes(parsed.period)) {
      throw invalid('period', `must be one of this leaderboard's periods (${this.periods.join(', ')})`, 'combine()');
    }
    const from = this.instant(parsed.from, 'from', 'combine()');
    const to = this.instant(parsed.to, 'to', 'combine()');
    if (to < from) throw invalid('to', 'must not be before from', 'combine()');
    const aggregate = parsed.aggregate ?? (this.options.policy === 'increment' ? 'sum' : 'best');
    const limit = aggregate === 'sum' ? this.precision.maxCombinedPeriods : maxBestPeriods;
    const spans = spansBetween(parsed.period, from, to, this.calendar, limit);
    if (!spans) {
      const why =
        aggregate === 'sum'
          ? `a sum may span at most ${limit} periods (the maxCombinedPeriods option)`
          : `may span at most ${limit} periods`;
      throw invalid('to', why, 'combine()');
    }
    const key = this.keys.combined(spans[0] as PeriodSpan, spans.at(-1) as PeriodSpan, aggregate);
    const target: ReadTarget = {
      keys: [
        key,
        this.keys.levels(key),
        this.keys.metadata,
        this.keys.registry,
        ...spans.map((s) => this.keys.board(s)),
      ],
      aggregate: aggregate === 'sum' ? 'SUM' : 'MAX',
      cacheMs: parsed.cache ?? this.options.combineCache,
    };
    return new CombinedBoard(this.reader, target, spans, aggregate);
  }

  /**
   * Removes a member. Without options: from every board that exists (all
   * periods, past ones still retained, and cached combinations) and deletes
   * its metadata. With `{ period, at }`: from that one board, metadata kept.
   *
   * @returns the number of boards the member was removed from.
   */
  async remove(member: string, options?: BoardOptions): Promise<number> {
    checkMember(member, 'remove()');
    let boards: string[];
    if (options === undefined) {
      boards = await this.existingBoards();
    } else {
      boards = [this.board(parseOptions(boardOptionsSchema, options, 'remove()'), 'remove()').board];
    }
    const keys = [this.keys.metadata];
    for (const board of boards) keys.push(board, this.keys.levels(board));
    const args = [member, this.encoding.slot, this.context.dense ? 1 : 0, options === undefined ? 1 : 0];
    return this.context.driver.script(removeMember, keys, args, this.context.call);
  }

  /**
   * Keeps only the best `keep` members of a board (the first period's
   * current board unless told otherwise). The metadata of removed members is
   * deleted only when the leaderboard has just the all-time board (otherwise
   * they may still be on other boards).
   *
   * @returns the number of members removed.
   */
  async trim(keep: number, options?: BoardOptions): Promise<number> {
    if (!Number.isInteger(keep) || keep < 0) throw invalid('keep', 'must be a whole number ≥ 0', 'trim()');
    const ref =
      options === undefined
        ? this.board(undefined, 'trim()')
        : this.board(parseOptions(boardOptionsSchema, options, 'trim()'), 'trim()');
    const onlyAllTime = this.periods.length === 1 && this.periods[0] === 'all-time';
    const keys = [ref.board, this.keys.levels(ref.board), this.keys.metadata];
    const args = [keep, this.encoding.slot, this.context.dense ? 1 : 0, onlyAllTime ? 1 : 0];
    return this.context.driver.script(trimBoard, keys, args, this.context.call);
  }

  /**
   * Streams a board's members with their scores (and metadata), fetched with
   * ZSCAN in batches: constant memory on the server and here, one round trip
   * per batch. Entries come in storage order, not rank order. As with ZSCAN,
   * a member may come twice when the board is resized meanwhile.
   */
  async *export(options?: ExportOptions): AsyncGenerator<ExportedEntry<MetadataOf<Schema>>, void, undefined> {
    const parsed = options === undefined ? {} : parseOptions(exportOptionsSchema, options, 'export()');
    if (parsed.metadata && !this.options.metadata) {
      throw invalid('metadata', 'this leaderboard has no metadata schema', 'export()');
    }
    const ref = this.board(parsed, 'export()');
    const metadata = parsed.metadata ?? this.options.metadata !== undefined;
    const batch = parsed.batch ?? 500;
    const keys = [ref.board, this.keys.metadata];
    let cursor = '0';
    do {
      const reply = await this.context.driver.script(
        scanBoard,
        keys,
        [cursor, batch, metadata ? 1 : 0],
        this.context.call,
      );
      cursor = String(reply[0]);
      const count = (reply.length - 1) / (metadata ? 3 : 2);
      for (let index = 0; index < count; index++) {
        const member = reply[1 + 2 * index] as string;
        const entry: { -readonly [Field in keyof ExportedEntry]: ExportedEntry<MetadataOf<Schema>>[Field] } = {
          member,
          score: this.encoding.scoreOf(reply[2 + 2 * index] as string),
        };
        if (metadata) entry.metadata = this.reader.parseMetadata(member, reply[1 + 2 * count + index]);
        yield entry as ExportedEntry<MetadataOf<Schema>>;
      }
    } while (cursor !== '0');
  }

  /**
   * Deletes boards. Without options: everything of this leaderboard (every
   * board, past periods, combinations, metadata, the encoding marker). With
   * `{ period, at }`: that one board. Not atomic with concurrent submits.
   */
  async reset(options?: BoardOptions): Promise<void> {
    let keys: string[];
    if (options === undefined) {
      keys = [this.keys.metadata, this.keys.encoding, this.keys.registry];
      for (const board of await this.existingBoards()) keys.push(board, this.keys.levels(board));
      // The next submit here records its boards in the (now empty) registry again.
      this.writer.forgetPlan();
    } else {
      const { board } = this.board(parseOptions(boardOptionsSchema, options, 'reset()'), 'reset()');
      keys = [board, this.keys.levels(board)];
    }
    await this.context.driver.command('UNLINK', keys, this.context.call);
  }

  /** Every board key that may exist: registered ones (periods, combinations), the all-time and current boards. */
  private async existingBoards(): Promise<string[]> {
    const registered = await this.context.driver.command<string[]>(
      'ZRANGE',
      [this.keys.registry, 0, -1],
      this.context.call,
    );
    const boards = new Set(registered.map(String));
    const now = this.clock.now();
    for (const period of this.periods) boards.add(this.keys.board(spanAt(period, now, this.calendar)));
    return [...boards];
  }

  /** The board and settings of a read call (without options: the cached current board, no allocation). */
  private read(options: ReadOptions | undefined, context: string): Read {
    if (options === undefined) return this.board(undefined, context);
    const parsed = parseOptions(readOptionsSchema, options, context);
    const settings = this.reader.settings(parsed.rankStyle, parsed.metadata, context);
    return { target: this.board(parsed, context).target, settings };
  }

  /** The board of `{ period, at }`: the first period's current board by default. */
  private board(options: { period?: Period; at?: unknown } | undefined, context: string): BoardRef {
    const period = options?.period ?? (this.periods[0] as Period);
    if (options?.period !== undefined && !this.periods.includes(period)) {
      throw invalid('period', `must be one of this leaderboard's periods (${this.periods.join(', ')})`, context);
    }
    if (options?.at !== undefined)
      return this.ref(spanAt(period, this.instant(options.at, 'at', context), this.calendar));
    const now = this.clock.now();
    const cached = this.current.get(period);
    if (cached && now >= cached.span.start && now < cached.span.end) return cached;
    const ref = this.ref(spanAt(period, now, this.calendar));
    this.current.set(period, ref);
    return ref;
  }

  private ref(span: PeriodSpan): BoardRef {
    const board = this.keys.board(span);
    const keys = [board, this.keys.levels(board), this.keys.metadata, this.keys.registry];
    return { span, board, target: { keys, aggregate: '', cacheMs: 0 }, settings: undefined };
  }

  private instant(value: unknown, path: string, context: string): number {
    const instant = toInstant(value, this.calendar);
    if (instant === undefined)
      throw invalid(path, 'must be a valid Date, ms since the epoch, or a YYYY-MM-DD day', context);
    return instant;
  }

  /** Validates metadata with the schema and returns its JSON. */
  private encodeMetadata(value: unknown): string {
    const schema = this.options.metadata;
    if (!schema) throw invalid('metadata', 'this leaderboard has no metadata schema', 'submit()');
    const json = JSON.stringify(parseField(schema, value, 'metadata', 'submit()'));
    if (json === undefined) throw invalid('metadata', 'must be JSON-serialisable', 'submit()');
    return json;
  }
}
