import type { TypedSchemaOptions } from '@redkit/core';
import { durationSchema, patternNameSchema, patternOptions, textSchema, zodSchemaOption } from '@redkit/core';
import { z } from 'zod';

/** A zod schema for member metadata. Values are stored as JSON, so use JSON-compatible types. */
export type MetadataSchema = z.ZodType;

/** The metadata type a schema produces (what reads return). */
export type MetadataOf<Schema> = Schema extends z.ZodType ? z.output<Schema> : never;

/** The metadata type a schema accepts (what `add` and `upsert` take). */
export type MetadataInputOf<Schema> = Schema extends z.ZodType ? z.input<Schema> : never;

/** Largest latitude Redis accepts (the Web Mercator limit, ±85.05112878°). */
export const maxLatitude = 85.05112878;
/** Longest member name accepted, in characters. */
export const maxMemberLength = 1024;
/** Most results one search returns (page through more with `snapshot` / `pages`). */
export const maxLimit = 10_000;
/** Most vertices of a polygon. */
export const maxVertices = 1000;

/** Distance units, as Redis names them: metres, kilometres, miles, feet. */
export const unitSchema = z.enum(['m', 'km', 'mi', 'ft']);
/** A distance unit: `m`, `km`, `mi` or `ft`. */
export type Unit = z.infer<typeof unitSchema>;

/** Metres per unit, as Redis converts them (geo.c `extractUnitOrReply`). */
export const metresPer: Record<Unit, number> = { m: 1, km: 1000, mi: 1609.34, ft: 0.3048 };

export const longitudeSchema = z
  .number({ message: 'must be a number' })
  .refine((value) => Number.isFinite(value) && value >= -180 && value <= 180, 'must be between -180 and 180');
export const latitudeSchema = z
  .number({ message: 'must be a number' })
  .refine(
    (value) => Number.isFinite(value) && value >= -maxLatitude && value <= maxLatitude,
    `must be between -${maxLatitude} and ${maxLatitude} (the latitudes Redis can index)`,
  );

export const memberSchema = textSchema(maxMemberLength);

/** A point on the map. */
export const pointSchema = z.object({ lon: longitudeSchema, lat: latitudeSchema }).strict();
/** A longitude/latitude pair in degrees (WGS 84). */
export type GeoPoint = z.infer<typeof pointSchema>;

/** Where a search starts: a point, or a member's position. */
export const originSchema = z.union([pointSchema, z.object({ member: memberSchema }).strict()], {
  message: 'must be { lon, lat } or { member }',
});
/** Where a search starts: `{ lon, lat }`, or `{ member }` (that member's position). */
export type Origin = GeoPoint | { member: string };

const positive = z
  .number({ message: 'must be a number' })
  .refine((value) => Number.isFinite(value) && value > 0, 'must be a finite number greater than 0');

const metadataSchemaSchema = zodSchemaOption<MetadataSchema>();

const day = 86_400_000;

/** Options of `new GeoIndex()`. */
export const geoIndexOptionsSchema = z
  .object({
    ...patternOptions('geo'),
    /** The index's name; its hash tag, so all its keys share one cluster slot. */
    name: patternNameSchema,
    /** Zod schema of member metadata, stored as JSON in a hash beside the geo set and returned with reads. */
    schema: metadataSchemaSchema.optional(),
    /**
     * Moving objects: a member not updated (`add`/`upsert`) within this long
     * is stale. Stale members never appear in any read and are evicted by
     * writes and `evictStale()`. Each write records the Redis server's time.
     * @default undefined (members never go stale)
     */
    ttl: durationSchema({ min: 1, max: 365 * day }).optional(),
    /** Stale members each write evicts at most (0: only `evictStale()` evicts). @default 100 */
    evictBatch: z.number().int().min(0).max(10_000).default(100),
  })
  .strict();

export type ResolvedGeoIndexOptions = z.output<typeof geoIndexOptionsSchema>;
/** Options of `new GeoIndex()`; `schema` types the metadata. */
export type GeoIndexOptions<Schema extends MetadataSchema | undefined = undefined> = TypedSchemaOptions<
  typeof geoIndexOptionsSchema,
  Schema
>;

/** Options of `add` and `upsert`. */
export const writeOptionsSchema = z
  .object({
    /** The member's metadata, validated by the index's schema; replaces what was stored. */
    metadata: z.unknown().optional(),
  })
  .strict();
/** Options of `add` and `upsert`; `metadata` is typed by the index's schema. */
export type WriteOptions<Metadata = never> = { metadata?: Metadata };

const sortSchema = z.enum(['asc', 'desc']);
const limitSchema = z.number().int('must be a whole number').min(1).max(maxLimit);

const readFields = {
  /** Nearest first (`asc`) or farthest first (`desc`). @default "asc" */
  sort: sortSchema.default('asc'),
  /** Return members' metadata (needs a `schema`). @default true when the index has a schema */
  metadata: z.boolean().optional(),
};

/** Options of `near`. */
export const nearOptionsSchema = z
  .object({
    /** Search radius, in `unit`. Must be greater than 0. */
    radius: positive,
    /** Unit of `radius` and of the distances returned. @default "m" */
    unit: unitSchema.default('m'),
    /** Most results returned. @default 100 */
    limit: limitSchema.default(100),
    ...readFields,
  })
  .strict();
export type NearOptions = z.input<typeof nearOptionsSchema>;

/** A box centred on a point or member; `width` (east-west) and `height` (north-south) in the search's `unit`. */
export const boxSchema = z.object({ center: originSchema, width: positive, height: positive }).strict();
export type Box = z.input<typeof boxSchema>;

/** Options of `within`: a box, or a polygon (exactly one). */
export const withinOptionsSchema = z
  .object({
    /** A box around a point or member. */
    box: boxSchema.optional(),
    /**
     * A simple polygon (concave allowed), vertices in order, not closed
     * (the last vertex joins the first). Edges are straight lines in
     * longitude/latitude; the polygon must not cross the antimeridian.
     */
    polygon: z
      .array(pointSchema)
      .min(3, 'must have at least 3 vertices')
      .max(maxVertices, `must have at most ${maxVertices} vertices`)
      .optional(),
    /** Unit of the box and of the distances returned. @default "m" */
    unit: unitSchema.default('m'),
    /** Most results returned. @default 100 */
    limit: limitSchema.default(100),
    ...readFields,
  })
  .strict()
  .superRefine((options, ctx) => {
    if ((options.box === undefined) === (options.polygon === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['box'], message: 'give exactly one of `box` and `polygon`' });
    }
    if (options.polygon) {
      const lons = options.polygon.map((point) => point.lon);
      const lats = options.polygon.map((point) => point.lat);
      if (Math.max(...lons) - Math.min(...lons) >= 180) {
        ctx.addIssue({
          code: 'custom',
          path: ['polygon'],
          message: 'must span less than 180° of longitude (polygons crossing the antimeridian are not supported)',
        });
      }
      if (Math.max(...lons) === Math.min(...lons) || Math.max(...lats) === Math.min(...lats)) {
        ctx.addIssue({ code: 'custom', path: ['polygon'], message: 'must enclose an area' });
      }
    }
  });
export type WithinOptions = z.input<typeof withinOptionsSchema>;

/** Options of `snapshot` and `pages`. */
export const snapshotOptionsSchema = z
  .object({
    /** Search radius, in `unit`. Must be greater than 0. */
    radius: positive,
    /** Unit of `radius` and of the distances returned. @default "m" */
    unit: unitSchema.default('m'),
    /** Nearest first (`asc`) or farthest first (`desc`). @default "asc" */
    sort: sortSchema.default('asc'),
    /** How long the stored result lives; each page read must come before it expires. @default "1m" */
    ttl: durationSchema({ min: 1_000, max: day }).default(60_000),
    /** Members per page (for `pages`). @default 100 */
    pageSize: limitSchema.default(100),
    /** Return members' metadata (needs a `schema`). @default true when the index has a schema */
    metadata: z.boolean().optional(),
  })
  .strict();
export type SnapshotOptions = z.input<typeof snapshotOptionsSchema>;

/** Options of `page`. */
export const pageOptionsSchema = z
  .object({
    /** Position of the first result, 0-based, in the snapshot's order. @default 0 */
    offset: z.number().int('must be a whole number').min(0).default(0),
    /** Results per page. @default 100 */
    size: limitSchema.default(100),
    /** Return members' metadata (needs a `schema`). @default true when the index has a schema */
    metadata: z.boolean().optional(),
  })
  .strict();
export type PageOptions = z.input<typeof pageOptionsSchema>;
