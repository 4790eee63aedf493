import {
  type CallOptions,
  groupBySlot,
  InvalidOptionsError,
  parseOptions,
  type RedisArg,
  type RedisDriver,
  type ScanOptions,
  scanAll,
  startPattern,
  TelemetryEmitter,
  unescapeKeyPart,
} from '@redkit/core';
import { SessionWriteRefusedError } from './errors.js';
import type { SessionEvents } from './events.js';
import {
  type DataInputOf,
  type DataOf,
  type DataPatchOf,
  type GetOptions,
  getOptionsSchema,
  idArgumentSchema,
  maxSessionIdLength,
  minSessionIdLength,
  type PutOptions,
  putOptionsSchema,
  type ResolvedSessionStoreOptions,
  type SessionSchema,
  type SessionStoreOptions,
  sessionStoreOptionsSchema,
  type TouchOptions,
  touchOptionsSchema,
  type UpdateOptions,
  updateOptionsSchema,
  userArgumentSchema,
} from './options.js';
import {
  type DescribeReply,
  describeSessions,
  destroySessions,
  indexSession,
  pruneIndex,
  readSession,
  rotateSession,
  touchSession,
  type WriteReply,
  writeSession,
} from './scripts.js';
import {
  assertDataObject,
  checkData,
  checkPatch,
  dataPrefix,
  encodeFields,
  encodeValue,
  parseFields,
  type StoredMeta,
  splitHash,
} from './session-data.js';
import { newSessionId, rotatedSessionId } from './session-id.js';
import { SessionKeys } from './session-keys.js';

/** What the store knows of a session besides its data. Times are ms since the epoch. */
export interface SessionInfo {
  readonly id: string;
  /** The session's user, or null for an anonymous session (framework stores). */
  readonly userId: string | null;
  /** Bumped by every write of the data (and by rotation); pass it to `update` for optimistic concurrency. */
  readonly version: number;
  /** When the session was created (Redis server clock). */
  readonly createdAt: number;
  /** When it expires unless used again: the idle expiry, never after `absoluteExpiresAt` (approximate, client clock). */
  readonly expiresAt: number;
  /** When it ends however active it is (Redis server clock). */
  readonly absoluteExpiresAt: number;
}

/** A session with its data. */
export interface Session<Data> extends SessionInfo {
  readonly data: Data;
}

/**
 * A session as `getFields` reads it: its data, and each data field's JSON
 * text as stored (to pass to `put` as `previousFields`).
 */
export interface StoredSession<Data> extends Omit<SessionInfo, 'expiresAt'> {
  readonly data: Data;
  /** Each top-level data field's JSON text, as stored. */
  readonly fields: Readonly<Record<string, string>>;
}

/** Outcome of `update`. */
export type UpdateResult =
  | { readonly status: 'updated'; readonly version: number }
  /** The session's version was no longer the one given: nothing was written. */
  | { readonly status: 'conflict'; readonly version: number }
  /** No such session (never created, expired or destroyed): nothing was written. */
  | { readonly status: 'missing' };

/** Outcome of `put`. */
export type PutResult =
  | 'written'
  /** The id was destroyed (logout, `destroyAll`, rotation): a destroyed id is never written again. */
  | 'destroyed'
  /** `previous` was given but the session no longer exists (it expired): nothing was written. */
  | 'missing';

const status = { missing: 0, written: 1, conflict: 2, destroyed: 3, indexFirst: 4, exists: 5 } as const;

/**
 * How long past its deadline an index entry is kept. Deadlines are set by
 * the clock of the user index's master and enforced by the session's, which
 * may differ on a cluster; this covers that skew.
 */
const indexGraceMs = 60_000;

/** One call of write-session (see the script's header). */
interface SessionWrite {
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

/**
 * The shortest time a tombstone lives: longer than any request, or any
 * `create` between indexing and writing, still in flight when the id is
 * destroyed. (It lives longer when the session had longer to live.)
 */
const tombstoneFloorMs = 10 * 60_000;

/** Attempts of `create` when its fresh id meets a concurrent `destroyAll` (or, in theory, a collision). */
const createAttempts = 3;

/** Rounds of `destroyAll`: each destroys what the index lists, and sessions created meanwhile are listed next round. */
const destroyAllRounds = 10;

/**
 * Sessions in Redis with an idle timeout (renewed by use) and an absolute
 * timeout (the most a session can live, however active), a per-user index
 * for `list` and `destroyAll` ("log out everywhere") without SCAN, field-level
 * atomic updates with optimistic versions, and schema-checked data.
 *
 * Each session is a hash whose top-level data fields are stored one per hash
 * field, so two requests that change different fields both keep their change.
 * Session ids are 256-bit-class random, URL-safe, and their first 8
 * characters are the hash tag of the session's keys.
 *
 * @example
 * ```ts
 * const sessions = new SessionStore({ redis, ttl: '30m', absoluteTtl: '12h', schema: z.object({ cart: z.array(z.string()) }) })
 * const { id } = await sessions.create('user-42', { cart: [] })
 * const session = await sessions.get(id, { touch: true })
 * await sessions.update(id, { cart: ['sku-1'] }, { version: session?.version })
 * await sessions.destroyAll('user-42')
 * ```
 */
export class SessionStore<Schema extends SessionSchema | undefined = undefined> {
  /** Typed telemetry: `created`, `rotated`, `destroyed`, `conflict`, `invalid-data`, `write-refused`. */
  readonly events: TelemetryEmitter<SessionEvents>;
  /** Idle timeout in ms. */
  readonly ttl: number;
  /** Absolute timeout in ms. */
  readonly absoluteTtl: number;
  /** The key namespace. */
  readonly namespace: string;
  private readonly options: ResolvedSessionStoreOptions;
  private readonly keys: SessionKeys;
  private readonly driver: RedisDriver;
  private readonly call: CallOptions | undefined;

  constructor(options: SessionStoreOptions<Schema>) {
    // An evicted session logs its user out; an evicted index misses sessions in destroyAll: warn once if the server may.
    ({
      options: this.options,
      driver: this.driver,
      call: this.call,
    } = startPattern(sessionStoreOptionsSchema, options, { context: 'SessionStore', evictable: 'session' }));
    this.keys = new SessionKeys(this.options.namespace);
    this.namespace = this.keys.namespace;
    this.ttl = this.options.ttl;
    this.absoluteTtl = this.options.absoluteTtl;
    this.events = new TelemetryEmitter<SessionEvents>('session');
  }

  /**
   * Creates a session for `userId` with a new random id. The session is listed
   * in the user's index before it is written, so `destroyAll` never misses it.
   *
   * @throws InvalidOptionsError (`InvalidSessionDataError` for data) before anything is written.
   */
  async create(userId: string, data: DataInputOf<Schema>): Promise<Session<DataOf<Schema>>> {
    const context = 'SessionStore.create()';
    const user = parseOptions(userArgumentSchema, { userId }, context).userId;
    const stored = this.checkWhole(data, context);
    const fields = encodeFields(stored, context);
    for (let attempt = 0; attempt < createAttempts; attempt++) {
      const id = newSessionId(this.options.idBytes);
      const deadline = await this.index(user, id, 0);
      const reply = await this.write(id, { mode: 'c', user: { id: user }, indexed: true, deadline, set: fields });
      if (reply[0] === status.written) {
        this.events.emit('created', { userId: user });
        return { ...this.info(id, user, reply), data: stored as DataOf<Schema> };
      }
      // destroyed: a destroyAll of this user ran between indexing and writing; exists: a collision.
    }
    throw new SessionWriteRefusedError(
      `could not create a session for ${JSON.stringify(user)}: ${createAttempts} attempts met a concurrent destroyAll`,
    );
  }

  /**
   * Reads a live session, or null when it does not exist, expired (idle or
   * absolute), or its data no longer matches the schema (reported as an
   * `invalid-data` event, never thrown). With `{ touch: true }` the idle
   * expiry is renewed in the same round trip.
   */
  async get(id: string, options?: GetOptions): Promise<Session<DataOf<Schema>> | null> {
    // Parsed only when given: this is every request's read.
    const touch = options === undefined ? false : parseOptions(getOptionsSchema, options, 'SessionStore.get()').touch;
    if (!this.isPlausibleId(id, 'SessionStore.get()')) return null;
    const key = this.keys.session(id);
    let flat: readonly (string | number)[];
    let pttl: number;
    if (touch) {
      const reply = await this.driver.script(readSession, [key], [this.ttl], this.call);
      if (reply === null) return null;
      flat = reply.slice(1);
      pttl = Number(reply[0]);
    } else {
      // No script: see getFields. One round trip for the hash and its expiry.
      const [hash, ttl] = await this.driver.pipeline(
        [
          ['HGETALL', key],
          ['PTTL', key],
        ],
        this.call,
      );
      if (hash?.[0]) throw hash[0];
      if (ttl?.[0]) throw ttl[0];
      flat = hash?.[1] as string[];
      pttl = Number(ttl?.[1]);
      // -2: it expired between the two commands.
      if (pttl === -2) return null;
    }
    const stored = this.decode(flat);
    if (stored === null) return null;
    const { meta, data } = stored;
    return {
      id,
      userId: meta.userId,
      version: meta.version,
      createdAt: meta.createdAt,
      expiresAt: pttl >= 0 ? Date.now() + pttl : meta.absoluteExpiresAt,
      absoluteExpiresAt: meta.absoluteExpiresAt,
      data: data as DataOf<Schema>,
    };
  }

  /**
   * Reads a live session with one HGETALL, without renewing it or asking its
   * expiry: the read of framework stores on every request. Besides the data,
   * it gives each field's JSON text as stored, to pass to `put` as
   * `previousFields`. Null as with `get`.
   *
   * No script is needed to tell a live session from an ended one: every
   * script that writes a session (write, touch, rotate, a touching get) sets
   * its key's expiry to at most its absolute deadline, so Redis removes the
   * key when either timeout passes, and a key that exists is a live session.
   */
  async getFields(id: string): Promise<StoredSession<DataOf<Schema>> | null> {
    if (!this.isPlausibleId(id, 'SessionStore.getFields()')) return null;
    const flat = await this.driver.command<string[]>('HGETALL', [this.keys.session(id)], this.call);
    const stored = this.decode(flat);
    if (stored === null) return null;
    const { meta, fields, data } = stored;
    return {
      id,
      userId: meta.userId,
      version: meta.version,
      createdAt: meta.createdAt,
      absoluteExpiresAt: meta.absoluteExpiresAt,
      data: data as DataOf<Schema>,
      fields,
    };
  }

  /**
   * A stored hash's metadata, data fields as text and data (checked by the
   * schema, if any); null when there is no session or its data is not valid
   * (reported as an `invalid-data` event).
   */
  private decode(
    flat: readonly (string | number)[],
  ): { meta: StoredMeta; fields: Record<string, string>; data: Record<string, unknown> } | null {
    if (flat.length === 0) return null;
    const { meta, fields } = splitHash(flat, 0);
    // A hash none of the scripts wrote (no absolute deadline) is no session.
    if (meta.absoluteExpiresAt === 0) return null;
    let data: Record<string, unknown>;
    try {
      data = parseFields(fields);
    } catch (error) {
      this.events.emit('invalid-data', { error: `stored data is not JSON: ${String(error)}` });
      return null;
    }
    const schema = this.options.schema;
    if (schema) {
      const result = schema.safeParse(data);
      if (!result.success) {
        this.events.emit('invalid-data', { error: result.error.message });
        return null;
      }
      data = result.data as Record<string, unknown>;
    }
    return { meta, fields, data };
  }

  /**
   * Renews a session's idle expiry (sliding expiry), never past its absolute
   * deadline, optionally for a shorter `ttl` and storing some fields with it
   * (`set`, e.g. a framework's cookie) in the same atomic script. A session
   * that ended is not brought back. @returns false when the session does not
   * exist (or ended).
   *
   * @throws InvalidOptionsError (`InvalidSessionDataError` for `set`) before anything is written.
   */
  async touch(id: string, options?: TouchOptions): Promise<boolean> {
    const context = 'SessionStore.touch()';
    let idle = this.ttl;
    const fields: string[] = [];
    if (options !== undefined) {
      const { ttl, set } = parseOptions(touchOptionsSchema, options, context);
      if (ttl !== undefined) idle = Math.min(ttl, this.ttl);
      if (set !== undefined) {
        const checked = this.options.schema ? checkPatch(this.options.schema, set, context) : set;
        for (const [field, value] of Object.entries(checked)) {
          if (value !== undefined) fields.push(dataPrefix + field, encodeValue(value, `set.${field}`, context));
        }
      }
    }
    if (!this.isPlausibleId(id, context)) return false;
    const pttl = await this.driver.script(touchSession, [this.keys.session(id)], [idle, ...fields], this.call);
    return pttl >= 0;
  }

  /**
   * Changes some fields atomically: fields given are set, fields given as
   * `undefined` deleted, the others left as they are, so concurrent updates
   * of different fields never overwrite each other. With `{ version }` the
   * update is written only if the session is still at that version (else
   * `conflict`). Renews the idle expiry.
   *
   * @throws InvalidOptionsError (`InvalidSessionDataError` for data) before anything is written.
   */
  async update(id: string, patch: DataPatchOf<Schema>, options?: UpdateOptions): Promise<UpdateResult> {
    const context = 'SessionStore.update()';
    const { version } = parseOptions(updateOptionsSchema, options ?? {}, context);
    assertDataObject(patch, 'patch', context);
    const checked = this.options.schema ? checkPatch(this.options.schema, patch, context) : patch;
    const set: string[] = [];
    const deleted: string[] = [];
    for (const [field, value] of Object.entries(checked)) {
      if (value === undefined) deleted.push(dataPrefix + field);
      else set.push(dataPrefix + field, encodeValue(value, `patch.${field}`, context));
    }
    if (!this.isPlausibleId(id, context)) return { status: 'missing' };
    const reply = await this.write(id, { mode: 'u', user: 'keep', version: version ?? '', set, deleted });
    if (reply[0] === status.written) return { status: 'updated', version: reply[1] };
    if (reply[0] === status.conflict) {
      this.events.emit('conflict', { version: reply[1] });
      return { status: 'conflict', version: reply[1] };
    }
    return { status: 'missing' };
  }

  /**
   * Destroys a session. Its id is remembered (a tombstone, for as long as
   * the session could still have lived: at least 10 minutes, at most one
   * idle timeout) so that a request still in flight cannot write it back.
   *
   * @returns true when a live session was destroyed.
   */
  async destroy(id: string): Promise<boolean> {
    if (!this.isPlausibleId(id, 'SessionStore.destroy()')) return false;
    const [user] = await this.destroyInSlot([id]);
    if (user === null || user === undefined) return false;
    this.events.emit('destroyed', { count: 1, ...(user === '' ? {} : { userId: user }) });
    // Best effort: list() and destroyAll() drop index entries of sessions that are gone anyway.
    if (user !== '') await this.prune(user, [id]).catch(() => undefined);
    return true;
  }

  /**
   * Moves a session to a new id and destroys the old one, keeping its data,
   * user and absolute deadline: call it at login and on privilege changes
   * (session fixation). Old and new id share a hash tag, so the move is one
   * atomic script.
   *
   * @returns the new session's info, or null when the session does not exist.
   */
  async rotate(id: string): Promise<SessionInfo | null> {
    const context = 'SessionStore.rotate()';
    if (!this.isPlausibleId(id, context)) return null;
    let indexed = false;
    for (let attempt = 0; attempt < createAttempts; attempt++) {
      const next = rotatedSessionId(id, this.options.idBytes);
      const keys = [this.keys.session(id), this.keys.tombstone(id), this.keys.session(next)];
      let reply = await this.driver.script(rotateSession, keys, [indexed ? 1 : 0, this.ttl, this.ttl], this.call);
      if (reply[0] === status.indexFirst) {
        // The new id joins the user's index before it exists, as with create.
        await this.index(reply[5], next, reply[3]);
        indexed = true;
        reply = await this.driver.script(rotateSession, keys, [1, this.ttl, this.ttl], this.call);
      }
      if (reply[0] === status.missing) return null;
      if (reply[0] === status.written) {
        const user = reply[5] === '' ? null : reply[5];
        this.events.emit('rotated', { userId: user });
        if (user !== null) await this.prune(user, [id]).catch(() => undefined);
        return this.info(next, user, [reply[0], reply[1], reply[2], reply[3], reply[4]]);
      }
      // exists (the new id was taken) or the user changed between the two calls: try again.
      indexed = false;
    }
    throw new SessionWriteRefusedError(`could not rotate session: ${createAttempts} attempts were refused`);
  }

  /**
   * The live sessions of a user, oldest first, read from the user's index
   * (no SCAN). Entries of sessions that expired or were destroyed are
   * dropped from the index on the way.
   */
  async list(userId: string): Promise<SessionInfo[]> {
    const user = parseOptions(userArgumentSchema, { userId }, 'SessionStore.list()').userId;
    const ids = await this.prune(user, []);
    if (ids.length === 0) return [];
    const replies = await this.perSlot(ids, (slotIds) =>
      this.driver.script(
        describeSessions,
        slotIds.map((id) => this.keys.session(id)),
        [],
        this.call,
      ),
    );
    const live: SessionInfo[] = [];
    const gone: string[] = [];
    ids.forEach((id, index) => {
      const row = replies[index] as DescribeReply[number];
      if (!row || row[0] !== user) {
        gone.push(id);
        return;
      }
      live.push({
        id,
        userId: user,
        createdAt: Number(row[1]),
        absoluteExpiresAt: Number(row[2]),
        expiresAt: Date.now() + Number(row[3]),
        version: Number(row[4]),
      });
    });
    if (gone.length > 0) await this.prune(user, gone);
    return live.sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Destroys every session of a user ("log out everywhere"), on every
   * cluster node, without SCAN. Destroyed ids get tombstones, so requests in
   * flight cannot write them back, and a `rotate` racing with it cannot carry
   * a session over. Sessions created while it runs are destroyed too, up to
   * 10 rounds; a session created after it returned is a later login.
   *
   * @returns how many live sessions were destroyed.
   */
  async destroyAll(userId: string): Promise<number> {
    const user = parseOptions(userArgumentSchema, { userId }, 'SessionStore.destroyAll()').userId;
    let destroyed = 0;
    let ids = await this.prune(user, []);
    for (let round = 0; ids.length > 0 && round < destroyAllRounds; round++) {
      const users = await this.perSlot(ids, (slotIds) => this.destroyInSlot(slotIds));
      destroyed += users.filter((owner) => owner !== null && owner !== undefined).length;
      ids = await this.prune(user, ids);
    }
    this.events.emit('destroyed', { count: destroyed, userId: user });
    return destroyed;
  }

  /**
   * Creates or updates the session with a caller-chosen id: the upsert that
   * framework stores (express-session, @fastify/session) need. A destroyed id
   * is never written again (`'destroyed'`). With `previous`, only the fields
   * that changed since that read are written, and an expired session is not
   * brought back (`'missing'`); without it, the data is replaced whole. A
   * new user is indexed before it is written, as with `create`.
   *
   * @throws InvalidOptionsError (`InvalidSessionDataError` for data) before anything is written.
   */
  async put(id: string, data: DataInputOf<Schema>, options: PutOptions): Promise<PutResult> {
    const context = 'SessionStore.put()';
    const sessionId = parseOptions(idArgumentSchema, { id }, context).id;
    const { userId, previous, previousFields, ttl } = parseOptions(putOptionsSchema, options, context);
    const stored = this.checkWhole(data, context);
    const set: string[] = [];
    const deleted: string[] = [];
    if (previousFields) {
      for (const [field, value] of Object.entries(stored)) {
        if (value === undefined) continue;
        const json = encodeValue(value, `data.${field}`, context);
        if (previousFields[field] !== json) set.push(dataPrefix + field, json);
      }
      for (const field of Object.keys(previousFields)) {
        if (stored[field] === undefined) deleted.push(dataPrefix + field);
      }
    } else if (previous) {
      for (const [field, value] of Object.entries(stored)) {
        if (value === undefined) continue;
        const json = encodeValue(value, `data.${field}`, context);
        const before = previous[field];
        if (before === undefined || JSON.stringify(before) !== json) set.push(dataPrefix + field, json);
      }
      for (const field of Object.keys(previous)) {
        if (stored[field] === undefined) deleted.push(dataPrefix + field);
      }
    } else {
      set.push(...encodeFields(stored, context));
    }
    const compared = previousFields !== undefined || previous !== undefined;
    const write: SessionWrite = {
      mode: compared ? 'u' : 'p',
      user: userId === null ? null : { id: userId },
      replace: !compared,
      set,
      deleted,
      idle: Math.min(ttl ?? this.ttl, this.ttl),
    };
    let reply = await this.write(sessionId, write);
    if (reply[0] === status.indexFirst && userId !== null) {
      const deadline = await this.index(userId, sessionId, reply[3]);
      reply = await this.write(sessionId, { ...write, indexed: true, deadline });
    }
    if (reply[0] === status.written) {
      if (reply[1] === 1) this.events.emit('created', { userId });
      return 'written';
    }
    if (reply[0] === status.destroyed) {
      this.events.emit('write-refused', { reason: 'destroyed' });
      return 'destroyed';
    }
    return 'missing';
  }

  /**
   * Every session id of this namespace, in batches, scanning every master of
   * a cluster: O(all keys). For framework stores' `all`, `length` and
   * `clear`, and for maintenance; request paths use `list(userId)`.
   */
  async *scanIds(options: ScanOptions = {}): AsyncGenerator<string[]> {
    const prefixLength = this.namespace.length + 1;
    for await (const batch of scanAll(this.options.redis, this.keys.sessionPattern(), options)) {
      // <ns>:{<tag>}:s:<escaped id>; ids are escaped like every key part.
      const ids = batch.map((key) => unescapeKeyPart(key.slice(key.indexOf('}:s:', prefixLength) + 4)));
      if (ids.length > 0) yield ids;
    }
  }

  private checkWhole(data: unknown, context: string): Record<string, unknown> {
    assertDataObject(data, 'data', context);
    return this.options.schema ? checkData(this.options.schema, data, context) : data;
  }

  /** Ids that cannot be a session are absent (a forged cookie is not an error); non-strings are. */
  private isPlausibleId(id: unknown, context: string): id is string {
    if (typeof id !== 'string') {
      throw new InvalidOptionsError([{ path: 'id', message: 'must be a string' }], { context });
    }
    return id.length >= minSessionIdLength && id.length <= maxSessionIdLength;
  }

  private info(id: string, userId: string | null, reply: WriteReply): SessionInfo {
    return {
      id,
      userId,
      version: reply[1],
      createdAt: reply[2],
      absoluteExpiresAt: reply[3],
      expiresAt: Date.now() + reply[4],
    };
  }

  private index(userId: string, id: string, deadline: number): Promise<number> {
    return this.driver.script(
      indexSession,
      [this.keys.userIndex(userId)],
      [id, deadline, this.absoluteTtl, indexGraceMs],
      this.call,
    );
  }

  private prune(userId: string, remove: readonly string[]): Promise<string[]> {
    return this.driver.script(pruneIndex, [this.keys.userIndex(userId)], [indexGraceMs, ...remove], this.call);
  }

  /** Runs write-session; see its header for what each field means. */
  private write(id: string, write: SessionWrite): Promise<WriteReply> {
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

  /** Destroys sessions that share one slot; per id, its user ('' for none) or null when it did not exist. */
  private destroyInSlot(ids: readonly string[]): Promise<(string | null)[]> {
    const keys = ids.flatMap((id) => [this.keys.session(id), this.keys.tombstone(id)]);
    return this.driver.script(destroySessions, keys, [this.ttl, tombstoneFloorMs], this.call);
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
