import {
  type CallOptions,
  InvalidOptionsError,
  type LuaScript,
  parseOptions,
  type RedisArg,
  type RedisDriver,
  ScriptError,
  type TelemetryEmitter,
} from '@redkit/core';
import { z } from 'zod';
import type { ScoreEncoding } from './encoding.js';
import type { Entry } from './entry.js';
import type { LeaderboardEvents } from './events.js';
import { type MetadataSchema, maxMemberLength, maxReadSize, memberSchema, type RankStyle } from './options.js';
import { countMembers, readMember, readRange } from './scripts.js';

/** A board as read scripts take it. */
export interface ReadTarget {
  /** `[board, distinct-score index, metadata, registry, ...boards to combine]`. */
  readonly keys: readonly string[];
  /** `''` for a stored board; how a combined board aggregates its sources otherwise. */
  readonly aggregate: '' | 'SUM' | 'MAX';
  /** How long a combined board is cached, in ms. */
  readonly cacheMs: number;
}

/** What one read returns besides entries: the rank style and whether to include metadata. */
export interface ReadSettings {
  readonly style: RankStyle;
  readonly metadata: boolean;
}

/** What every board reader shares with the leaderboard that made it. */
export interface BoardContext {
  readonly name: string;
  readonly driver: RedisDriver;
  readonly encoding: ScoreEncoding;
  readonly schema: MetadataSchema | undefined;
  /** Whether boards keep a distinct-score index (the leaderboard's rank style is `dense`). */
  readonly dense: boolean;
  readonly rankStyle: RankStyle;
  readonly events: TelemetryEmitter<LeaderboardEvents>;
  /** Per-call options (a timeout), or undefined for the client's own. */
  readonly call: CallOptions | undefined;
}

const styleCode: Record<RankStyle, string> = { ordinal: 'o', competition: 'c', dense: 'd' };

const countSchema = z.number().int().min(1).max(maxReadSize);
const pageIndexSchema = z.number().int().min(0).max(1e9);
/** Largest `around` radius: the window must fit in one read. */
const maxRadius = Math.floor((maxReadSize - 1) / 2);
const radiusSchema = z.number().int().min(0).max(maxRadius);

function invalid(path: string, message: string, context: string): InvalidOptionsError {
  return new InvalidOptionsError([{ path, message }], { context });
}

/** Validates a member name; zod only runs to explain a bad one. */
export function checkMember(member: unknown, context: string): string {
  if (typeof member !== 'string' || member.length === 0 || member.length > maxMemberLength) {
    parseOptions(z.object({ member: memberSchema }), { member }, context);
  }
  return member as string;
}

function checkNumber(schema: z.ZodType, path: string, value: unknown, context: string): number {
  parseOptions(z.object({ [path]: schema }), { [path]: value }, context);
  return value as number;
}

/**
 * The reads every board offers (a period board or a combined one): each is
 * one round trip: a script (which also builds a combined board when it is
 * not cached), or a plain command where one is enough on a stored board.
 */
export class BoardReader<Metadata> {
  private readonly context: BoardContext;

  constructor(context: BoardContext) {
    this.context = context;
    this.unionError = this.unionError.bind(this);
  }

  /** Resolves the rank style and metadata flag of a read; dense ranks need the distinct-score index. */
  settings(rankStyle: RankStyle | undefined, metadata: boolean | undefined, context: string): ReadSettings | undefined {
    const { context: board } = this;
    if (rankStyle === 'dense' && !board.dense) {
      throw invalid(
        'rankStyle',
        "dense ranks need the leaderboard's rankStyle to be 'dense' (it then keeps an index of distinct scores)",
        context,
      );
    }
    if (metadata && !board.schema) throw invalid('metadata', 'this leaderboard has no metadata schema', context);
    if (rankStyle === undefined && metadata === undefined) return undefined;
    return { style: rankStyle ?? board.rankStyle, metadata: metadata ?? board.schema !== undefined };
  }

  /** The best `n` entries. */
  top(target: ReadTarget, n: number, settings: ReadSettings | undefined): Promise<Entry<Metadata>[]> {
    if (!Number.isInteger(n) || n < 1 || n > maxReadSize) checkNumber(countSchema, 'n', n, 'top()');
    return this.range(target, 'p', 0, n - 1, settings);
  }

  /** Page `index` (0-based) of `size` entries. */
  page(target: ReadTarget, index: number, size: number, settings: ReadSettings | undefined) {
    if (!Number.isInteger(index) || index < 0 || index > 1e9) checkNumber(pageIndexSchema, 'index', index, 'page()');
    if (!Number.isInteger(size) || size < 1 || size > maxReadSize) checkNumber(countSchema, 'size', size, 'page()');
    return this.range(target, 'p', index * size, index * size + size - 1, settings);
  }

  /**
   * The member and up to `radius` entries on each side: `2 × radius + 1`
   * entries, shifted at the top and bottom of the board so the window keeps
   * its size when the board is large enough. Null when the member is absent.
   */
  async around(
    target: ReadTarget,
    member: string,
    radius: number,
    settings: ReadSettings | undefined,
  ): Promise<Entry<Metadata>[] | null> {
    checkMember(member, 'around()');
    if (!Number.isInteger(radius) || radius < 0 || radius > maxRadius) {
      checkNumber(radiusSchema, 'radius', radius, 'around()');
    }
    const entries = await this.range(target, 'a', member, radius, settings);
    return entries.length === 0 ? null : entries;
  }

  /** The member's rank, or null when absent. */
  async rank(target: ReadTarget, member: string, settings: ReadSettings | undefined): Promise<number | null> {
    checkMember(member, 'rank()');
    const style = settings?.style ?? this.context.rankStyle;
    if (style === 'ordinal' && target.aggregate === '') {
      // A position is one plain command on a stored board.
      const position = await this.context.driver.command<number | null>(
        'ZREVRANK',
        [target.keys[0] as string, member],
        this.context.call,
      );
      return position === null ? null : Number(position) + 1;
    }
    const reply = await this.member(target, member, styleCode[style]);
    if (reply[0] === null) return null;
    return (Number(style === 'ordinal' ? reply[1] : style === 'competition' ? reply[2] : reply[3]) || 0) + 1;
  }

  /** The member's score, or null when absent. */
  async score(target: ReadTarget, member: string): Promise<number | null> {
    checkMember(member, 'score()');
    const composite =
      target.aggregate === ''
        ? await this.context.driver.command<string | number | null>(
            'ZSCORE',
            [target.keys[0] as string, member],
            this.context.call,
          )
        : (await this.member(target, member, ''))[0];
    return composite === null || composite === undefined ? null : this.context.encoding.scoreOf(composite);
  }

  /** The member's entry (score, rank, metadata), or null when absent. */
  async entry(target: ReadTarget, member: string, settings: ReadSettings | undefined): Promise<Entry<Metadata> | null> {
    checkMember(member, 'entry()');
    const style = settings?.style ?? this.context.rankStyle;
    const metadata = settings?.metadata ?? this.context.schema !== undefined;
    const reply = await this.member(target, member, styleCode[style] + (metadata ? 'm' : ''));
    if (reply[0] === null) return null;
    const position = style === 'ordinal' ? reply[1] : style === 'competition' ? reply[2] : reply[3];
    const entry: { -readonly [Field in keyof Entry<Metadata>]: Entry<Metadata>[Field] } = {
      member,
      score: this.context.encoding.scoreOf(reply[0] as string),
      rank: Number(position) + 1,
    };
    if (metadata) entry.metadata = this.parseMetadata(member, reply[7] as string | null);
    return entry;
  }

  /**
   * The member's percentile rank: the share of the board scoring below it,
   * counting members with an equal score (itself included) as half:
   * `100 × (below + equal / 2) / count`. Null when absent.
   */
  async percentile(target: ReadTarget, member: string): Promise<number | null> {
    checkMember(member, 'percentile()');
    const reply = await this.member(target, member, 'p');
    if (reply[0] === null) return null;
    return (100 * (Number(reply[4]) + Number(reply[5]) / 2)) / Number(reply[6]);
  }

  /** How many members the board has. */
  count(target: ReadTarget): Promise<number> {
    if (target.aggregate === '') {
      return this.context.driver.command<number>('ZCARD', [target.keys[0] as string], this.context.call);
    }
    return this.run(countMembers, target, this.prelude(target));
  }

  private prelude(target: ReadTarget): RedisArg[] {
    return [target.aggregate, target.cacheMs, this.context.dense ? 1 : 0, this.context.encoding.slot];
  }

  private member(target: ReadTarget, member: string, want: string) {
    const args = this.prelude(target);
    args.push(member, want);
    return this.run(readMember, target, args);
  }

  private run<Reply>(script: LuaScript<Reply>, target: ReadTarget, args: RedisArg[]): Promise<Reply> {
    const call = this.context.driver.script(script, target.keys, args, this.context.call);
    // Only a combined board can fail its precision check (see union-prelude.lua).
    return target.aggregate === '' ? call : call.catch(this.unionError);
  }

  private unionError(error: unknown): never {
    const match = error instanceof ScriptError ? /E_SCORE_RANGE (-?\d+)/.exec(error.message) : null;
    if (!match) throw error;
    const { encoding } = this.context;
    throw encoding.rangeError(encoding.toScore(Math.floor(Number(match[1]) / encoding.slot)), 'combined');
  }

  private async range(
    target: ReadTarget,
    mode: 'p' | 'a',
    first: number | string,
    last: number,
    settings: ReadSettings | undefined,
  ): Promise<Entry<Metadata>[]> {
    const style = settings?.style ?? this.context.rankStyle;
    const metadata = settings?.metadata ?? this.context.schema !== undefined;
    if (mode === 'p' && !metadata && target.aggregate === '' && (style === 'ordinal' || first === 0)) {
      // Nothing to count or join: a plain ZRANGE is the same single round trip without running a script.
      const reply = await this.context.driver.command<(string | [string, string | number])[]>(
        'ZRANGE',
        [target.keys[0] as string, first, last, 'REV', 'WITHSCORES'],
        this.context.call,
      );
      return this.entries(reply, 0, first as number, 0, style, false);
    }
    const args = this.prelude(target);
    args.push(mode, first, last, metadata ? 1 : 0, styleCode[style]);
    const reply = await this.run(readRange, target, args);
    const start = Number(reply[0]);
    if (start < 0) return [];
    return this.entries(reply, 2, start, Number(reply[1]), style, metadata);
  }

  /**
   * Entries from `member, composite, …` at `offset` of a reply (then one
   * metadata JSON per entry when `metadata`). `start` is the first entry's
   * position; `better` counts the members (competition) or distinct scores
   * (dense) above its score. Later ranks follow from positions and levels.
   */
  private entries(
    reply: readonly (string | number | null | [string, string | number])[],
    offset: number,
    start: number,
    better: number,
    style: RankStyle,
    metadata: boolean,
  ): Entry<Metadata>[] {
    const { encoding } = this.context;
    // A plain ZRANGE over RESP3 pairs each member with its score; script replies are always flat.
    const pairs = Array.isArray(reply[offset]);
    const count = pairs ? reply.length : (reply.length - offset) / (metadata ? 3 : 2);
    const entries: Entry<Metadata>[] = new Array(count);
    let previousLevel = Number.NaN;
    let rank = better;
    for (let index = 0; index < count; index++) {
      const pair = pairs ? (reply[index] as [string, string | number]) : undefined;
      const member = pair ? pair[0] : (reply[offset + 2 * index] as string);
      const level = encoding.levelOf(pair ? pair[1] : (reply[offset + 1 + 2 * index] as string));
      if (style === 'ordinal') rank = start + index + 1;
      else if (level !== previousLevel) {
        rank = style === 'dense' ? rank + 1 : index === 0 ? rank + 1 : start + index + 1;
      }
      previousLevel = level;
      const entry: { -readonly [Field in keyof Entry<Metadata>]: Entry<Metadata>[Field] } = {
        member,
        score: encoding.toScore(level),
        rank,
      };
      if (metadata) {
        entry.metadata = this.parseMetadata(member, reply[offset + 2 * count + index] as string | null);
      }
      entries[index] = entry;
    }
    return entries;
  }

  /** Stored metadata, checked against the schema again (it may have changed since it was written). */
  parseMetadata(member: string, json: string | null | undefined): Metadata | undefined {
    const schema = this.context.schema;
    if (json === null || json === undefined || !schema) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (error) {
      this.context.events.emit('metadata-invalid', { member, error: String(error) });
      return undefined;
    }
    const result = schema.safeParse(value);
    if (result.success) return result.data as Metadata;
    this.context.events.emit('metadata-invalid', { member, error: result.error.message });
    return undefined;
  }
}
