/**
 * The JSON message codec shared by the stream queue and the pub/sub channels:
 * checks a message against the optional zod schema on the way in (throwing
 * with the field's path) and on the way out (returning an error text).
 */
import { InvalidOptionsError, issuesAt } from '@redkit/core';
import type { z } from 'zod';
import { InvalidMessageError } from './errors.js';
import type { MessageSchema } from './options.js';

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
