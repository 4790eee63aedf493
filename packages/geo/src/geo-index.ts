import { randomBytes } from 'node:crypto';
import type { CallOptions, RedisArg, RedisDriver } from '@redkit/core';
import { InvalidOptionsError, Keyspace, parseField, parseOptions, startPattern, TelemetryEmitter } from '@redkit/core';
import { SnapshotExpiredError, UnknownMemberError } from './errors.js';
import type { GeoEvents } from './events.js';
import { decodeResultRows, type GeoMember, type GeoResult, type GeoSnapshot } from './geo-results.js';
import { MetadataCodec } from './metadata-codec.js';
import {
  type GeoIndexOptions,
  type GeoPoint,
  geoIndexOptionsSchema,
  type MetadataInputOf,
  type MetadataOf,
  type MetadataSchema,
  memberSchema,
  metresPer,
  type NearOptions,
  nearOptionsSchema,
  type Origin,
  originSchema,
  type PageOptions,
  pageOptionsSchema,
  pointSchema,
  type ResolvedGeoIndexOptions,
  type SnapshotOptions,
  snapshotOptionsSchema,
  type Unit,
  unitSchema,
  type WithinOptions,
  type WriteOptions,
  withinOptionsSchema,
  writeOptionsSchema,
} from './options.js';
import { candidateBox } from './polygon.js';
import {
  evictStale,
  measureDistance,
  readMember,
  readSnapshot,
  removeMember,
  searchMembers,
  storeSnapshot,
  upsertMember,
} from './scripts.js';

const snapshotIdPattern = /^[0-9a-f]{16}\.(m|km|mi|ft)$/;

function invalid(path: string, message: string, context: string): InvalidOptionsError {
  return new InvalidOptionsError([{ path, message }], { context });
}

/**
 * A geo index: members with a position (a Redis geo set), optional typed
 * metadata (a hash beside it) and, for moving objects, the Redis time each
 * member was last written (a sorted set). All keys share the index's hash
 * tag, so every operation is one Lua call on one cluster slot.
 *
 * - `near` and `within` use GEOSEARCH (never the deprecated GEORADIUS) and
 *   return typed results with distance and coordinates, sorted and limited.
 * - `snapshot` / `page` / `pages`: stable paging through a large result,
 *   stored with GEOSEARCHSTORE into a short-lived key.
 * - Polygons: candidates by GEOSEARCH BYBOX, then an exact point-in-polygon
 *   test inside the same script (concave polygons included).
 * - With `ttl`, members not written within it are stale: no read returns
 *   them (filtered in the same script that searches), and writes and
 *   `evictStale()` remove them.
 *
 * @example
 * ```ts
 * const drivers = new GeoIndex({ redis, name: 'drivers', ttl: '30s', schema: z.object({ car: z.string() }) })
 * await drivers.upsert('d1', { lon: 2.35, lat: 48.85 }, { metadata: { car: 'Zoe' } })
 * const nearby = await drivers.near({ lon: 2.34, lat: 48.86 }, { radius: 2, unit: 'km', limit: 10 })
 * ```
 */
export class GeoIndex<Schema extends MetadataSchema | undefined = undefined> {
  readonly name: string;
  /** Typed telemetry: `searched`, `evicted`, `metadata-invalid`. */
  readonly events: TelemetryEmitter<GeoEvents>;
  private readonly options: ResolvedGeoIndexOptions;
  private readonly driver: RedisDriver;
  private readonly call: CallOptions | undefined;
  /** `[geo set, metadata hash, last-seen sorted set]`. */
  private readonly keys: readonly [string, string, string];
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly metadata: MetadataCodec<MetadataOf<Schema>>;

  constructor(options: GeoIndexOptions<Schema>) {
    // Members are data: evicting them loses positions, so warn once if the server may.
    ({
      options: this.options,
      driver: this.driver,
      call: this.call,
    } = startPattern(geoIndexOptionsSchema, options, { context: 'GeoIndex', evictable: 'geo' }));
    this.name = this.options.name;
    this.prefix = `${new Keyspace(this.options.namespace).key(this.name)}:`;
    this.keys = [`${this.prefix}points`, `${this.prefix}meta`, `${this.prefix}seen`];
    this.ttl = this.options.ttl ?? 0;
    this.events = new TelemetryEmitter<GeoEvents>('geo');
    this.metadata = new MetadataCodec(this.options.schema, this.events);
  }

  /**
   * Adds a member that is not in the index yet (a stale member counts as
   * absent). An existing member is left unchanged.
   *
   * @returns true when added, false when the member already existed.
   */
  async add(member: string, point: GeoPoint, options?: WriteOptions<MetadataInputOf<Schema>>): Promise<boolean> {
    const reply = await this.write('a', member, point, options, 'add()');
    return reply[0] === 1;
  }

  /**
   * Sets a member's position, adding it when absent, and records that it was
   * seen now (with a `ttl`). Metadata given replaces what is stored; without
   * it an existing member keeps its metadata.
   *
   * @returns true when the member was created, false when it was updated.
   */
  async upsert(member: string, point: GeoPoint, options?: WriteOptions<MetadataInputOf<Schema>>): Promise<boolean> {
    const reply = await this.write('u', member, point, options, 'upsert()');
    return reply[0] === 1;
  }

  /** Removes a member with its metadata. @returns true when a live member was removed. */
  async remove(member: string): Promise<boolean> {
    this.checkMember(member, 'remove()');
    const reply = await this.driver.script(removeMember, this.keys, [member, this.ttl], this.call);
    return reply === 1;
  }

  /** A live member's stored position, or null when absent or stale. */
  async position(member: string): Promise<GeoPoint | null> {
    this.checkMember(member, 'position()');
    const reply = await this.driver.script(readMember, this.keys, [member, this.ttl, 0], this.call);
    return reply ? { lon: Number(reply[0]), lat: Number(reply[1]) } : null;
  }

  /** A live member's position, metadata and last-seen time, or null when absent or stale. */
  async get(member: string): Promise<GeoMember<MetadataOf<Schema>> | null> {
    this.checkMember(member, 'get()');
    const withMetadata = this.options.schema !== undefined;
    const reply = await this.driver.script(readMember, this.keys, [member, this.ttl, withMetadata ? 1 : 0], this.call);
    if (!reply) return null;
    const result: { -readonly [K in keyof GeoMember<MetadataOf<Schema>>]: GeoMember<MetadataOf<Schema>>[K] } = {
      member,
      lon: Number(reply[0]),
      lat: Number(reply[1]),
    };
    if (withMetadata && reply[2] !== null && reply[2] !== undefined) {
      const metadata = this.metadata.parse(member, reply[2]);
      if (metadata !== undefined) result.metadata = metadata;
    }
    if (reply[3] !== null && reply[3] !== undefined) result.lastSeen = Number(reply[3]);
    return result;
  }

  /**
   * The distance between two live members (GEODIST), or null when either is
   * absent or stale.
   * @param unit @default "m"
   */
  async distance(a: string, b: string, unit: Unit = 'm'): Promise<number | null> {
    this.checkMember(a, 'distance()');
    this.checkMember(b, 'distance()');
    if (!unitSchema.safeParse(unit).success) throw invalid('unit', 'must be one of m, km, mi, ft', 'distance()');
    const reply = await this.driver.script(
      measureDistance,
      [this.keys[0], this.keys[2]],
      [a, b, unit, this.ttl],
      this.call,
    );
    return reply === null || reply === undefined ? null : Number(reply);
  }

  /**
   * Live members within `radius` of a point or member (GEOSEARCH BYRADIUS),
   * nearest first (or farthest with `sort: 'desc'`), at most `limit`. From a
   * member, the member itself is included (distance 0).
   *
   * @throws UnknownMemberError when searching from a member that is absent or stale.
   */
  async near(from: Origin, options: NearOptions): Promise<GeoResult<MetadataOf<Schema>>[]> {
    const origin = parseField(originSchema, from, 'from', 'near()') as Origin;
    const parsed = parseOptions(nearOptionsSchema, options, 'near()');
    const withMetadata = this.metadata.wanted(parsed.metadata, 'near()');
    // Nothing to filter or join: a plain GEOSEARCH, without the cost of
    // converting its reply into Lua and back (~25% at a few thousand hits).
    if (this.ttl === 0 && !withMetadata && !('member' in origin)) return this.nearPlain(origin, parsed);
    const args: RedisArg[] = [];
    this.pushOrigin(args, origin);
    args.push(
      'r',
      parsed.radius,
      '',
      parsed.unit,
      parsed.sort === 'asc' ? 'ASC' : 'DESC',
      parsed.limit,
      this.ttl,
      withMetadata ? 1 : 0,
    );
    return this.search('near', origin, args, withMetadata);
  }

  /**
   * Live members inside a box (GEOSEARCH BYBOX) or a polygon, sorted by
   * distance from the box's centre (for a polygon: from its bounding box's
   * centre), at most `limit`.
   *
   * A polygon is searched in two steps inside one script: GEOSEARCH BYBOX
   * over its bounding box finds candidates, then an even-odd point-in-polygon
   * test on their stored positions keeps exactly those inside.
   *
   * @throws UnknownMemberError when the box is centred on a member that is absent or stale.
   */
  async within(options: WithinOptions): Promise<GeoResult<MetadataOf<Schema>>[]> {
    const parsed = parseOptions(withinOptionsSchema, options, 'within()');
    const withMetadata = this.metadata.wanted(parsed.metadata, 'within()');
    const order = parsed.sort === 'asc' ? 'ASC' : 'DESC';
    const args: RedisArg[] = [];
    if (parsed.box) {
      const origin = parsed.box.center as Origin;
      this.pushOrigin(args, origin);
      args.push(
        'b',
        parsed.box.width,
        parsed.box.height,
        parsed.unit,
        order,
        parsed.limit,
        this.ttl,
        withMetadata ? 1 : 0,
      );
      return this.search('box', origin, args, withMetadata);
    }
    const polygon = parsed.polygon as GeoPoint[];
    const box = candidateBox(polygon);
    const scale = metresPer[parsed.unit];
    args.push(
      'p',
      box.lon,
      box.lat,
      'b',
      box.width / scale,
      box.height / scale,
      parsed.unit,
      order,
      parsed.limit,
      this.ttl,
    );
    args.push(withMetadata ? 1 : 0);
    for (const vertex of polygon) args.push(vertex.lon, vertex.lat);
    return this.search('polygon', undefined, args, withMetadata);
  }

  /**
   * Stores every live member within `radius` (GEOSEARCHSTORE … STOREDIST)
   * into a key that expires after `ttl`, for stable paging with `page()`:
   * pages are cut from that fixed result, so no member is seen twice or
   * skipped while others move. Pages leave out members removed or gone stale
   * since; their positions are current, their distances those of the snapshot.
   *
   * @throws UnknownMemberError when searching from a member that is absent or stale.
   */
  async snapshot(from: Origin, options: SnapshotOptions): Promise<GeoSnapshot> {
    const origin = parseField(originSchema, from, 'from', 'snapshot()') as Origin;
    const parsed = parseOptions(snapshotOptionsSchema, options, 'snapshot()');
    this.metadata.wanted(parsed.metadata, 'snapshot()');
    const id = `${randomBytes(8).toString('hex')}.${parsed.unit}`;
    const args: RedisArg[] = [];
    this.pushOrigin(args, origin);
    args.push(parsed.radius, parsed.unit, parsed.sort === 'asc' ? 'ASC' : 'DESC', this.ttl, parsed.ttl);
    const started = performance.now();
    const reply = await this.driver.script(
      storeSnapshot,
      [this.keys[0], this.keys[2], this.snapshotKey(id)],
      args,
      this.call,
    );
    if (reply[0] === 1) throw new UnknownMemberError((origin as { member: string }).member);
    const total = Number(reply[1]);
    this.events.emit('searched', { kind: 'snapshot', results: total, durationMs: performance.now() - started });
    return { id, total, unit: parsed.unit, expiresAt: Date.now() + parsed.ttl };
  }

  /**
   * One page of a snapshot, in its order: results `offset` … `offset + size - 1`
   * (fewer when members were removed or went stale since the snapshot).
   *
   * @throws SnapshotExpiredError when the snapshot expired.
   */
  async page(snapshotId: string, options?: PageOptions): Promise<GeoResult<MetadataOf<Schema>>[]> {
    if (typeof snapshotId !== 'string' || !snapshotIdPattern.test(snapshotId)) {
      throw invalid('snapshot', 'must be the id of a snapshot (from snapshot())', 'page()');
    }
    const parsed = parseOptions(pageOptionsSchema, options ?? {}, 'page()');
    const withMetadata = this.metadata.wanted(parsed.metadata, 'page()');
    const started = performance.now();
    const reply = await this.driver.script(
      readSnapshot,
      [this.keys[0], this.keys[1], this.keys[2], this.snapshotKey(snapshotId)],
      [parsed.offset, parsed.size, this.ttl, withMetadata ? 1 : 0],
      this.call,
    );
    if (reply[0] === 1) throw new SnapshotExpiredError(snapshotId);
    const results = this.decode(reply, 2, withMetadata);
    this.events.emit('searched', { kind: 'page', results: results.length, durationMs: performance.now() - started });
    return results;
  }

  /**
   * Every live member within `radius`, page by page, from one snapshot (see
   * `snapshot`): each member exactly once, even while members move.
   *
   * @example
   * ```ts
   * for await (const page of index.pages({ lon: 2.35, lat: 48.85 }, { radius: 50, unit: 'km', pageSize: 500 })) send(page)
   * ```
   */
  async *pages(
    from: Origin,
    options: SnapshotOptions,
  ): AsyncGenerator<GeoResult<MetadataOf<Schema>>[], void, undefined> {
    const pageSize = parseOptions(snapshotOptionsSchema, options, 'pages()').pageSize;
    const snapshot = await this.snapshot(from, options);
    const metadata = options.metadata;
    for (let offset = 0; offset < snapshot.total; offset += pageSize) {
      const page = await this.page(
        snapshot.id,
        metadata === undefined ? { offset, size: pageSize } : { offset, size: pageSize, metadata },
      );
      if (page.length > 0) yield page;
    }
  }

  /**
   * Removes every member not written within the `ttl` (with its metadata),
   * in batches. Reads never return stale members anyway; this frees memory.
   *
   * @returns how many members were evicted.
   */
  async evictStale(): Promise<number> {
    if (this.ttl === 0) throw invalid('ttl', 'this index has no ttl, so no member goes stale', 'evictStale()');
    const batch = 1000;
    let total = 0;
    for (;;) {
      const evicted = await this.driver.script(evictStale, this.keys, [this.ttl, batch], this.call);
      total += evicted;
      if (evicted < batch) break;
    }
    if (total > 0) this.events.emit('evicted', { count: total });
    return total;
  }

  /** Deletes every member, metadata and last-seen time of the index (snapshots expire on their own). */
  async clear(): Promise<void> {
    await this.driver.command('DEL', this.keys, this.call);
  }

  private async write(
    mode: 'a' | 'u',
    member: string,
    point: GeoPoint,
    options: WriteOptions<unknown> | undefined,
    context: string,
  ): Promise<[number, number, number]> {
    this.checkMember(member, context);
    const { lon, lat } = parseField(pointSchema, point, 'point', context);
    let metadataMode = 'k';
    let metadata = '';
    if (options !== undefined) {
      const parsed = parseOptions(writeOptionsSchema, options, context);
      if (parsed.metadata !== undefined) {
        metadata = this.metadata.encode(parsed.metadata, context);
        metadataMode = 's';
      }
    }
    const reply = await this.driver.script(
      upsertMember,
      this.keys,
      [member, lon, lat, mode, metadataMode, metadata, this.ttl, this.options.evictBatch],
      this.call,
    );
    if (reply[2] > 0) this.events.emit('evicted', { count: reply[2] });
    return reply;
  }

  private async search(
    kind: 'near' | 'box' | 'polygon',
    origin: Origin | undefined,
    args: RedisArg[],
    withMetadata: boolean,
  ): Promise<GeoResult<MetadataOf<Schema>>[]> {
    const started = performance.now();
    const reply = await this.driver.script(searchMembers, this.keys, args, this.call);
    if (reply[0] === 1) throw new UnknownMemberError((origin as { member: string }).member);
    const results = this.decode(reply, 1, withMetadata);
    this.events.emit('searched', { kind, results: results.length, durationMs: performance.now() - started });
    return results;
  }

  private async nearPlain(
    origin: { lon: number; lat: number },
    parsed: { radius: number; unit: string; sort: 'asc' | 'desc'; limit: number },
  ): Promise<GeoResult<MetadataOf<Schema>>[]> {
    const started = performance.now();
    const reply = await this.driver.command<[string, string, [string, string]][]>(
      'GEOSEARCH',
      [
        this.keys[0],
        'FROMLONLAT',
        origin.lon,
        origin.lat,
        'BYRADIUS',
        parsed.radius,
        parsed.unit,
        parsed.sort === 'asc' ? 'ASC' : 'DESC',
        'COUNT',
        parsed.limit,
        'WITHDIST',
        'WITHCOORD',
      ],
      this.call,
    );
    const results: GeoResult<MetadataOf<Schema>>[] = reply.map(([member, distance, [lon, lat]]) => ({
      member,
      distance: Number(distance),
      lon: Number(lon),
      lat: Number(lat),
    }));
    this.events.emit('searched', { kind: 'near', results: results.length, durationMs: performance.now() - started });
    return results;
  }

  /** Results from the rows of a search reply, from `start`. */
  private decode(
    reply: (string | number | null)[],
    start: number,
    withMetadata: boolean,
  ): GeoResult<MetadataOf<Schema>>[] {
    return decodeResultRows(reply, start, withMetadata ? (member, raw) => this.metadata.parse(member, raw) : undefined);
  }

  private pushOrigin(args: RedisArg[], origin: Origin): void {
    if ('member' in origin) args.push('m', origin.member, '');
    else args.push('p', origin.lon, origin.lat);
  }

  private snapshotKey(id: string): string {
    return `${this.prefix}snap:${id}`;
  }

  private checkMember(member: string, context: string): void {
    parseField(memberSchema, member, 'member', context);
  }
}
