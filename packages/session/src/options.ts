import { durationSchema, patternOptions, type TypedSchemaOptions, textSchema } from '@redkit/core';
import { z } from 'zod';

/**
 * A zod object schema of session data. Each top-level field is stored as its
 * own hash field (JSON), so concurrent updates of different fields never
 * overwrite each other; the schema must therefore be a `z.object(...)`.
 */
export type SessionSchema = z.ZodObject;

/** Session data when the store has no schema: any JSON object. */
export type AnySessionData = Record<string, unknown>;

/** The data type a store returns: the schema's output, or any JSON object. */
export type DataOf<Schema> = Schema extends z.ZodObject ? z.output<Schema> : AnySessionData;

/** The data type a store accepts on `create`: the schema's input, or any JSON object. */
export type DataInputOf<Schema> = Schema extends z.ZodObject ? z.input<Schema> : AnySessionData;

/** A partial update: fields to set, or `undefined` to delete a field. */
export type DataPatchOf<Schema> = { [Field in keyof DataInputOf<Schema>]?: DataInputOf<Schema>[Field] | undefined };

const day = 86_400_000;
/** Longest user id accepted, in characters. */
export const maxUserIdLength = 512;
/** Longest session id accepted (ids from frameworks' generators included), in characters. */
export const maxSessionIdLength = 1024;
/**
 * Shortest session id accepted. Any non-empty id works: its first 8
 * characters (all of a shorter id) are the hash tag of its keys, escaped like
 * every key part, so express-session's `genid` may return any string.
 */
export const minSessionIdLength = 1;

// Duck-typed rather than instanceof, so a schema from another copy of zod is accepted.
const schemaSchema = z.custom<SessionSchema>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as z.ZodObject).safeParse === 'function' &&
    typeof (value as z.ZodObject).shape === 'object',
  'must be a zod object schema (z.object({...})): each top-level field is stored and updated on its own',
);

/** Options of `new SessionStore()`. */
export const sessionStoreOptionsSchema = z
  .object({
    ...patternOptions('session'),
    /**
     * Idle timeout: a session not read with `touch`, touched or written for
     * this long expires. Each renewal is capped by the absolute deadline.
     * @default "30m"
     */
    ttl: durationSchema({ min: 1, max: 365 * day }).default(30 * 60_000),
    /**
     * Absolute timeout: a session ends this long after it was created, however
     * active it is (rotation keeps the deadline). Must be ≥ `ttl`.
     * @default "7d"
     */
    absoluteTtl: durationSchema({ min: 1, max: 10 * 365 * day }).default(7 * day),
    /** Zod object schema of the session data, checked on every write and read. */
    schema: schemaSchema.optional(),
    /** Random bytes in a new session id (after its 6-byte hash tag); 16 or more. @default 24 */
    idBytes: z.number().int('must be a whole number').min(16).max(64).default(24),
  })
  .strict()
  .superRefine((options, ctx) => {
    if (options.absoluteTtl < options.ttl) {
      ctx.addIssue({ code: 'custom', path: ['absoluteTtl'], message: 'must be at least `ttl` (the idle timeout)' });
    }
  });

/** Options of `new SessionStore()`; `schema` types the session data. */
export type SessionStoreOptions<Schema extends SessionSchema | undefined = undefined> = TypedSchemaOptions<
  typeof sessionStoreOptionsSchema,
  Schema
>;
export type ResolvedSessionStoreOptions = z.output<typeof sessionStoreOptionsSchema>;

/** A user id: a non-empty string. */
export const userIdSchema = textSchema(maxUserIdLength);

/** A user id argument, parsed as `{ userId }` so errors name the argument. */
export const userArgumentSchema = z.object({ userId: userIdSchema });

/** A session id handed in by a caller. */
export const sessionIdSchema = z
  .string({ message: 'must be a string' })
  .min(minSessionIdLength, 'must not be empty')
  .max(maxSessionIdLength, `must be at most ${maxSessionIdLength} characters`);

/** A session id argument, parsed as `{ id }` so errors name the argument. */
export const idArgumentSchema = z.object({ id: sessionIdSchema });

/** Options of `update`. */
export const updateOptionsSchema = z
  .object({
    /**
     * Optimistic concurrency: write only when the session's version is still
     * this one (the `version` of the session as read); otherwise nothing is
     * written and the result is a `conflict`.
     */
    version: z.number().int('must be a whole number').min(1).optional(),
  })
  .strict();
export type UpdateOptions = z.input<typeof updateOptionsSchema>;

/** Options of `get`. */
export const getOptionsSchema = z
  .object({
    /** Also renew the idle expiry, in the same round trip. @default false */
    touch: z.boolean().default(false),
  })
  .strict();
export type GetOptions = z.input<typeof getOptionsSchema>;

/** Options of `touch`. */
export const touchOptionsSchema = z
  .object({
    /**
     * How long the session lives from now, when it should end sooner than
     * the store's idle timeout. Never more than `ttl`, never past the
     * absolute deadline.
     * @default the store's `ttl`
     */
    ttl: durationSchema({ min: 1, max: 10 * 365 * day }).optional(),
    /**
     * Fields stored with the renewal, such as a framework's cookie with its
     * new expiry; checked against the schema like `update`'s. They do not
     * bump the version: a renewal is not a change of the session's state.
     */
    set: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type TouchOptions = z.input<typeof touchOptionsSchema>;

/** Options of `put`, the upsert that framework stores use. */
export const putOptionsSchema = z
  .object({
    /** The session's user (indexed for `list`/`destroyAll`), or null for an anonymous session. */
    userId: userIdSchema.nullable(),
    /**
     * The data as this process last read it. Only fields that differ from it
     * are written (and fields gone from it deleted), so two requests that
     * changed different fields both keep their change. Without it, the
     * session's data is replaced by `data`.
     */
    previous: z.record(z.string(), z.unknown()).optional(),
    /**
     * Like `previous`, but each field as the JSON text it was stored as (the
     * `fields` of `getFields`): compared as text, so a save neither copies
     * nor re-encodes what the request read. Wins over `previous`.
     */
    previousFields: z.record(z.string(), z.string()).optional(),
    /**
     * How long the session lives from this write, when it should end sooner
     * than the store's idle timeout (a framework's cookie that expires
     * first). Never more than `ttl`, never past the absolute deadline.
     * @default the store's `ttl`
     */
    ttl: durationSchema({ min: 1, max: 10 * 365 * day }).optional(),
  })
  .strict();
export type PutOptions = z.input<typeof putOptionsSchema>;
