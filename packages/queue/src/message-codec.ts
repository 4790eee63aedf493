import { InvalidOptionsError, issuesAt } from '@redkit/core';
import type { z } from 'zod';
import { InvalidMessageError } from './errors.js';
import type { MessageSchema } from './options.js';
import type { RawFields } from './scripts.js';

/** Checks a message against the schema (if any) and encodes it as JSON; throws naming the field. */
export function encodeMessage(
  schema: MessageSchema | undefined,
  message: unknown,
  path: string,
  context: string,
): string {
  let value = message;
  if (schema) {
    const result = schema.safeParse(message);
    if (!result.success) {
      throw new InvalidMessageError(issuesAt([path], (result.error as z.ZodError).issues), {
        cause: result.error,
        context,
      });
    }
    value = result.data;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new InvalidOptionsError([{ path, message: `is not JSON-serializable: ${String(error)}` }], { context });
  }
  if (json === undefined) {
    throw new InvalidOptionsError([{ path, message: 'is not JSON-serializable' }], { context });
  }
  return json;
}

/** The fields of one stream entry, by name. */
export function fieldMap(raw: RawFields | null | undefined): Map<string, string> {
  const fields = new Map<string, string>();
  if (!raw) return fields;
  for (let index = 0; index + 1 < raw.length; index += 2) fields.set(String(raw[index]), String(raw[index + 1]));
  return fields;
}

/** One field of a stream entry (entries have a handful of fields: a scan costs less than building a map). */
export function fieldOf(raw: RawFields | null | undefined, name: string): string | undefined {
  if (!raw) return undefined;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    if (String(raw[index]) === name) return String(raw[index + 1]);
  }
  return undefined;
}

/** Decodes and checks a stored message; returns an error text instead of throwing. */
export function decodeMessage(
  schema: MessageSchema | undefined,
  data: string | undefined,
): { ok: true; message: unknown } | { ok: false; error: string } {
  if (data === undefined) return { ok: false, error: 'the entry has no message data (field d)' };
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    return { ok: false, error: `the message is not JSON: ${String(error)}` };
  }
  if (!schema) return { ok: true, message: value };
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, message: result.data };
  const detail = issuesAt(['message'], (result.error as z.ZodError).issues)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
  return { ok: false, error: `the message failed the schema: ${detail}` };
}
