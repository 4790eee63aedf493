import {
  InvalidOptionsError,
  parseOptions,
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
import type { DescribeReply } from './scripts.js';
import { SessionCommands, type SessionWrite, status } from './session-commands.js';
import {
  assertDataObject,
  changedFields,
  checkData,
  checkPatch,
  type DecodedSession,
  dataPrefix,
  decodeSession,
  encodeFields,
  encodeValue,
} from './session-data.js';
import { newSessionId, rotatedSessionId } from './session-id.js';
import {
  infoFromWrite,
  type PutResult,
  type Session,
  type SessionInfo,
  type StoredSession,
  type UpdateResult,
} from './session-info.js';
import { SessionKeys } from './session-keys.js';

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
  private readonly commands: SessionCommands;

  constructor(options: SessionStoreOptions<Schema>) {
    // An evicted session logs its user out; an evicted index misses sessions in destroyAll: warn once if the server may.
    const started = startPattern(sessionStoreOptionsSchema, options, { context: 'SessionStore', evictable: 'session' });
    this.options = started.options;
    this.keys = new SessionKeys(this.options.namespace);
    this.namespace = this.keys.namespace;
    this.ttl = this.options.ttl;
    this.absoluteTtl = this.options.absoluteTtl;
    this.commands = new SessionCommands(started.driver, this.keys, started.call, this.ttl, this.absoluteTtl);
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
      const deadline = await this.commands.index(user, id, 0);
      const reply = await this.commands.write(id, {
        mode: 'c',
        user: { id: user },
        indexed: true,
        deadline,
        set: fields,
      });
      if (reply[0] === status.written) {
        this.events.emit('created', { userId: user });
        return { ...infoFromWrite(id, user, reply), data: stored as DataOf<Schema> };
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
    let flat: readonly (string | number)[];
    let pttl: number;
    if (touch) {
      const reply = await this.commands.readAndTouch(id);
      if (reply === null) return null;
      flat = reply.slice(1);
      pttl = Number(reply[0]);
    } else {
      ({ flat, pttl } = await this.commands.readWithExpiry(id));
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
    const flat = await this.commands.readHash(id);
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

  /** A stored hash, decoded and checked; null as with `get` (invalid data reported as an event). */
  private decode(flat: readonly (string | number)[]): DecodedSession | null {
    return decodeSession(flat, this.options.schema, (error) => this.events.emit('invalid-data', { error }));
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
    const pttl = await this.commands.touch(id, idle, fields);
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
    const reply = await this.commands.write(id, { mode: 'u', user: 'keep', version: version ?? '', set, deleted });
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
    const [user] = await this.commands.destroyInSlot([id]);
    if (user === null || user === undefined) return false;
    this.events.emit('destroyed', { count: 1, ...(user === '' ? {} : { userId: user }) });
    // Best effort: list() and destroyAll() drop index entries of sessions that are gone anyway.
    if (user !== '') await this.commands.prune(user, [id]).catch(() => undefined);
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
      let reply = await this.commands.rotate(id, next, indexed);
      if (reply[0] === status.indexFirst) {
        // The new id joins the user's index before it exists, as with create.
        await this.commands.index(reply[5], next, reply[3]);
        indexed = true;
        reply = await this.commands.rotate(id, next, true);
      }
      if (reply[0] === status.missing) return null;
      if (reply[0] === status.written) {
        const user = reply[5] === '' ? null : reply[5];
        this.events.emit('rotated', { userId: user });
        if (user !== null) await this.commands.prune(user, [id]).catch(() => undefined);
        return infoFromWrite(next, user, [reply[0], reply[1], reply[2], reply[3], reply[4]]);
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
    const ids = await this.commands.prune(user, []);
    if (ids.length === 0) return [];
    const replies = await this.commands.describe(ids);
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
    if (gone.length > 0) await this.commands.prune(user, gone);
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
    let ids = await this.commands.prune(user, []);
    for (let round = 0; ids.length > 0 && round < destroyAllRounds; round++) {
      const users = await this.commands.destroyAny(ids);
      destroyed += users.filter((owner) => owner !== null && owner !== undefined).length;
      ids = await this.commands.prune(user, ids);
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
    const { set, deleted } = changedFields(stored, { previousFields, previous }, context);
    if (!previousFields && !previous) set.push(...encodeFields(stored, context));
    const compared = previousFields !== undefined || previous !== undefined;
    const write: SessionWrite = {
      mode: compared ? 'u' : 'p',
      user: userId === null ? null : { id: userId },
      replace: !compared,
      set,
      deleted,
      idle: Math.min(ttl ?? this.ttl, this.ttl),
    };
    let reply = await this.commands.write(sessionId, write);
    if (reply[0] === status.indexFirst && userId !== null) {
      const deadline = await this.commands.index(userId, sessionId, reply[3]);
      reply = await this.commands.write(sessionId, { ...write, indexed: true, deadline });
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
}
