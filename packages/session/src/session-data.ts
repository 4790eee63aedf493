import { InvalidOptionsError } from '@redkit/core';
import type { z } from 'zod';
import { InvalidSessionDataError } from './errors.js';
import type { SessionSchema } from './options.js';

/** Data fields are stored as `d:<name>` so they never meet the store's own `_…` fields. */
export const dataPrefix = 'd:';

/** Session metadata the store keeps beside the data. */
export interface StoredMeta {
  readonly userId: string | null;
  readonly createdAt: number;
  readonly absoluteExpiresAt: number;
  readonly version: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Throws InvalidOptionsError naming `path` unless `data` is a plain object. */
export function assertDataObject(
  data: unknown,
  path: string,
  context: string,
): asserts data is Record<string, unknown> {
  if (!isPlainObject(data)) {
    throw new InvalidOptionsError([{ path, message: 'must be a plain object of JSON values' }], { context });
  }
}

/** The JSON text of one field's value, or an InvalidOptionsError naming the field. */
export function encodeValue(value: unknown, path: string, context: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidOptionsError([{ path, message: `is not JSON-serializable (${String(error)})` }], {
      context,
      cause: error,
    });
  }
  if (json === undefined) {
    throw new InvalidOptionsError([{ path, message: 'is not JSON-serializable (a function or symbol)' }], {
      context,
    });
  }
  return json;
}

/** `[field, JSON]` pairs for every field of `data`, prefixed for the hash. */
export function encodeFields(data: Record<string, unknown>, context: string): string[] {
  const args: string[] = [];
  for (const [field, value] of Object.entries(data)) {
    if (value === undefined) continue;
    args.push(dataPrefix + field, encodeValue(value, `data.${field}`, context));
  }
  return args;
}

/** Splits an HGETALL reply into the store's metadata and each data field's JSON text, as stored. */
export function splitHash(
  flat: readonly (string | number)[],
  from: number,
): { meta: StoredMeta; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  let userId: string | null = null;
  let createdAt = 0;
  let absoluteExpiresAt = 0;
  let version = 0;
  for (let i = from; i + 1 < flat.length; i += 2) {
    const field = String(flat[i]);
    const value = String(flat[i + 1]);
    if (field.startsWith(dataPrefix)) {
      fields[field.slice(dataPrefix.length)] = value;
    } else if (field === '_u') {
      userId = value === '' ? null : value;
    } else if (field === '_c') {
      createdAt = Number(value);
    } else if (field === '_a') {
      absoluteExpiresAt = Number(value);
    } else if (field === '_v') {
      version = Number(value);
    }
  }
  return { meta: { userId, createdAt, absoluteExpiresAt, version }, fields };
}

/** The data of stored JSON fields: fresh objects, which the caller may mutate. @throws SyntaxError */
export function parseFields(fields: Readonly<Record<string, string>>): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const field in fields) data[field] = JSON.parse(fields[field] as string);
  return data;
}

function issuesOf(error: z.ZodError, prefix: string[]) {
  return error.issues.map((issue) => ({
    path: ['data', ...prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

/** Validates whole session data; returns the schema's output (defaults applied). */
export function checkData(
  schema: SessionSchema,
  data: Record<string, unknown>,
  context: string,
): Record<string, unknown> {
  const result = schema.safeParse(data);
  if (!result.success) throw new InvalidSessionDataError(issuesOf(result.error, []), { cause: result.error, context });
  return result.data as Record<string, unknown>;
}

/**
 * Validates a partial update field by field against the object schema's shape:
 * each set field must match its own schema, a deleted field must be optional,
 * and fields the schema does not declare are refused.
 */
export function checkPatch(
  schema: SessionSchema,
  patch: Record<string, unknown>,
  context: string,
): Record<string, unknown> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const checked: Record<string, unknown> = {};
  const issues: { path: string; message: string }[] = [];
  for (const [field, value] of Object.entries(patch)) {
    const fieldSchema = shape[field];
    if (!fieldSchema) {
      issues.push({ path: `data.${field}`, message: 'is not a field of the session schema' });
      continue;
    }
    const result = fieldSchema.safeParse(value);
    if (result.success) {
      checked[field] = result.data;
    } else if (value === undefined) {
      issues.push({ path: `data.${field}`, message: 'is required by the session schema and cannot be deleted' });
    } else {
      issues.push(...issuesOf(result.error, [field]));
    }
  }
  if (issues.length > 0) throw new InvalidSessionDataError(issues, { context });
  return checked;
}

/** A stored session hash, read back: its metadata, data fields as text, and data. */
export interface DecodedSession {
  readonly meta: StoredMeta;
  readonly fields: Record<string, string>;
  readonly data: Record<string, unknown>;
}

/**
 * A stored hash's metadata, data fields as text and data (checked by the
 * schema, if any); null when there is no session or its data is not valid
 * (then passed to `invalid` first, for the `invalid-data` event).
 */
export function decodeSession(
  flat: readonly (string | number)[],
  schema: SessionSchema | undefined,
  invalid: (error: string) => void,
): DecodedSession | null {
  if (flat.length === 0) return null;
  const { meta, fields } = splitHash(flat, 0);
  // A hash none of the scripts wrote (no absolute deadline) is no session.
  if (meta.absoluteExpiresAt === 0) return null;
  let data: Record<string, unknown>;
  try {
    data = parseFields(fields);
  } catch (error) {
    invalid(`stored data is not JSON: ${String(error)}`);
    return null;
  }
  if (schema) {
    const result = schema.safeParse(data);
    if (!result.success) {
      invalid(result.error.message);
      return null;
    }
    data = result.data as Record<string, unknown>;
  }
  return { meta, fields, data };
}

/**
 * The `[d:field, JSON]` pairs to set and `d:field` names to delete to turn a
 * session read earlier into `data`: against each field's JSON text as stored
 * (`previousFields`), else against the data read (`previous`).
 */
export function changedFields(
  data: Record<string, unknown>,
  before: {
    readonly previousFields?: Readonly<Record<string, string>> | undefined;
    readonly previous?: Record<string, unknown> | undefined;
  },
  context: string,
): { set: string[]; deleted: string[] } {
  const { previousFields, previous } = before;
  const set: string[] = [];
  const deleted: string[] = [];
  if (previousFields) {
    for (const [field, value] of Object.entries(data)) {
      if (value === undefined) continue;
      const json = encodeValue(value, `data.${field}`, context);
      if (previousFields[field] !== json) set.push(dataPrefix + field, json);
    }
    for (const field of Object.keys(previousFields)) {
      if (data[field] === undefined) deleted.push(dataPrefix + field);
    }
  } else if (previous) {
    for (const [field, value] of Object.entries(data)) {
      if (value === undefined) continue;
      const json = encodeValue(value, `data.${field}`, context);
      const before = previous[field];
      if (before === undefined || JSON.stringify(before) !== json) set.push(dataPrefix + field, json);
    }
    for (const field of Object.keys(previous)) {
      if (data[field] === undefined) deleted.push(dataPrefix + field);
    }
  }
  return { set, deleted };
}
