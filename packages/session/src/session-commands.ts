/**
 * The store's Redis side: each session script called with its argument
 * layout (write-session's many flags, the user index, tombstoned destroys),
 * the reply status codes, and the per-slot fan-out of multi-session calls.
 * `SessionStore` keeps validation, events and result shapes; this file is
 * the one place that knows how the scripts are spoken to.
 */
import { type CallOptions, groupBySlot, type RedisArg, type RedisDriver } from '@redkit/core';
import {
  type DescribeReply,
  describeSessions,
  destroySessions,
  indexSession,
  pruneIndex,
  type RotateReply,
  readSession,
  rotateSession,
  touchSession,
  type WriteReply,
  writeSession,
} from './scripts.js';
import type { SessionKeys } from './session-keys.js';

/** Reply status codes of write-session and rotate-session. */
export const status = { missing: 0, written: 1, conflict: 2, destroyed: 3, indexFirst: 4, exists: 5 } as const;

/**
 * How long past its deadline an index entry is kept. Deadlines are set by
 * the clock of the user index's master and enforced by the session's, which
 * may differ on a cluster; this covers that skew.
 */
const indexGraceMs = 60_000;

/**
 * The shortest time a tombstone lives: longer than any request, or any
 * `create` between indexing and writing, still in flight when the id is
 * destroyed. (It lives longer when the session had longer to live.)
 */
const tombstoneFloorMs = 10 * 60_000;

/** One call of write-session (see the script's header). */
export interface SessionWrite {
  /** `c` create (the id must be new), `u` update (it must exist), `p` put (either). */
  readonly mode: 'c' | 'u' | 'p';
  /** Keep the stored user, clear it (null), or set it. An object, so no user id can mean "keep". */
  readonly user: 'keep' | null | { readonly id: string };
  /** The user's index already lists the id (required to give a session a new user). */
  readonly indexed?: boolean;
  /** Absolute deadline of a new session from index-session, or 0 for now + absoluteTtl. */
  readonly deadline?: number;
  /** Optimistic concurrency: the expected version, or '' for any. */
  readonly version?: number | '';
  /** Delete the data fields this write does not set. */
  readonly replace?: boolean;
  /** Time to live from this write in ms (capped by the absolute deadline). @default the store's `ttl` */
  readonly idle?: number;
  /** `d:<field>`, JSON pairs to set. */
  readonly set: readonly string[];
  /** `d:<field>` names to delete. */
  readonly deleted?: readonly string[];
}

/** The session scripts of one store (its keys, timeouts and call options). */
export class SessionCommands {
  constructor(
    private readonly driver: RedisDriver,
    private readonly keys: SessionKeys,
    private readonly call: CallOptions | undefined,
    /** Idle timeout in ms. */
    private readonly ttl: number,
    /** Absolute timeout in ms. */
    private readonly absoluteTtl: number,
  ) {}

  /** Lists `id` in the user's index; @returns the session's absolute deadline. */
  index(userId: string, id: string, deadline: number): Promise<number> {
    return this.driver.script(
      indexSession,
      [this.keys.userIndex(userId)],
      [id, deadline, this.absoluteTtl, indexGraceMs],
      this.call,
    );
  }

  /** Drops `remove` and expired entries from the user's index; @returns the ids it still lists. */
  prune(userId: string, remove: readonly string[]): Promise<string[]> {
    return this.driver.script(pruneIndex, [this.keys.userIndex(userId)], [indexGraceMs, ...remove], this.call);
  }

  /** Runs write-session; see its header for what each field means. */
  write(id: string, write: SessionWrite): Promise<WriteReply> {
    const { mode, user, indexed = false, deadline = 0, version = '', replace = false, set, deleted = [] } = write;
    const idle = write.idle ?? this.ttl;
    const userMode = user === 'keep' ? 'k' : user === null ? 'n' : 's';
    const userId = user !== 'keep' && user !== null ? user.id : '';
    const args: RedisArg[] = [
      mode,
      userMode,
      userId,
      indexed ? 1 : 0,
      deadline,
      this.absoluteTtl,
      idle,
      version,
      replace ? 1 : 0,
      set.length / 2,
      ...set,
      ...deleted,
    ];
    return this.driver.script(writeSession, [this.keys.session(id), this.keys.tombstone(id)], args, this.call);
  }

  /**
   * A session's hash with one HGETALL, no script: every script that writes a
   * session caps its key's expiry at the absolute deadline, so a key that
   * exists is a live session. Empty when there is none.
   */
  readHash(id: string): Promise<string[]> {
    return this.driver.command<string[]>('HGETALL', [this.keys.session(id)], this.call);
  }

  /** A session's hash and its pttl in one round trip (no script: see `readHash`); pttl -2 when it is gone. */
  async readWithExpiry(id: string): Promise<{ flat: string[]; pttl: number }> {
    const key = this.keys.session(id);
    const [hash, ttl] = await this.driver.pipeline(
      [
        ['HGETALL', key],
        ['PTTL', key],
      ],
      this.call,
    );
    if (hash?.[0]) throw hash[0];
    if (ttl?.[0]) throw ttl[0];
    return { flat: hash?.[1] as string[], pttl: Number(ttl?.[1]) };
  }

  /** Reads a session and renews its idle expiry: `[pttl, ...HGETALL]`, or null when there is none. */
  readAndTouch(id: string): Promise<(string | number)[] | null> {
    return this.driver.script(readSession, [this.keys.session(id)], [this.ttl], this.call);
  }

  /** Renews a session's idle expiry to `idle` ms, setting `fields` with it; @returns its pttl, negative when gone. */
  touch(id: string, idle: number, fields: readonly string[]): Promise<number> {
    return this.driver.script(touchSession, [this.keys.session(id)], [idle, ...fields], this.call);
  }

  /** Moves session `id` to `next` (one slot), the new id already indexed or not. */
  rotate(id: string, next: string, indexed: boolean): Promise<RotateReply> {
    const keys = [this.keys.session(id), this.keys.tombstone(id), this.keys.session(next)];
    return this.driver.script(rotateSession, keys, [indexed ? 1 : 0, this.ttl, this.ttl], this.call);
  }

  /** Per id, false or the session's `{user, created, deadline, pttl, version}`, one script per slot. */
  describe(ids: readonly string[]): Promise<DescribeReply> {
    return this.perSlot(ids, (slotIds) =>
      this.driver.script(
        describeSessions,
        slotIds.map((id) => this.keys.session(id)),
        [],
        this.call,
      ),
    );
  }

  /** Destroys sessions that share one slot; per id, its user ('' for none) or null when it did not exist. */
  destroyInSlot(ids: readonly string[]): Promise<(string | null)[]> {
    const keys = ids.flatMap((id) => [this.keys.session(id), this.keys.tombstone(id)]);
    return this.driver.script(destroySessions, keys, [this.ttl, tombstoneFloorMs], this.call);
  }

  /** Destroys sessions in any slots; per id, as `destroyInSlot`. */
  destroyAny(ids: readonly string[]): Promise<(string | null)[]> {
    return this.perSlot(ids, (slotIds) => this.destroyInSlot(slotIds));
  }

  /** Runs `run` once per slot of the ids' sessions (concurrently) and returns the replies in `ids` order. */
  private async perSlot<Row>(ids: readonly string[], run: (slotIds: string[]) => Promise<Row[]>): Promise<Row[]> {
    const groups = [...groupBySlot(ids.map((id) => this.keys.session(id))).values()];
    const replies = await Promise.all(groups.map((group) => run(group.indexes.map((index) => ids[index] as string))));
    const rows: Row[] = new Array(ids.length);
    groups.forEach((group, groupIndex) => {
      group.indexes.forEach((index, position) => {
        rows[index] = (replies[groupIndex] as Row[])[position] as Row;
      });
    });
    return rows;
  }
}
