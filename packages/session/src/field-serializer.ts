/**
 * connect-redis's `serializer` option, applied field by field: each
 * top-level field of a session is stored as the serializer's text of
 * `{ [field]: value }`, so a serializer that keeps Dates, Maps or BigInts
 * keeps them, and two requests that change different fields still both keep
 * their change. Not a public entry point.
 *
 * @module
 */
import { InvalidOptionsError } from '@redkit/core';
import type { FieldCodec, FrameworkSessionData } from './framework-store.js';

/**
 * How session data is turned into text and back: connect-redis's
 * `serializer` (`JSON` by default). `parse` may be async.
 *
 * @example
 * ```ts
 * import superjson from 'superjson'
 * const serializer: SessionSerializer = { stringify: superjson.stringify, parse: superjson.parse }
 * ```
 */
export interface SessionSerializer {
  /** The text of a value (here, always an object of one field). */
  stringify(value: object): string;
  /** The value of a text `stringify` produced. */
  parse(text: string): unknown;
}

/** A codec storing each field through `serializer`. */
export function fieldCodec(serializer: SessionSerializer): FieldCodec {
  return {
    encode(session) {
      const stored: FrameworkSessionData = {};
      for (const [field, value] of Object.entries(session)) {
        if (value === undefined) continue;
        // The framework's cookie is a class instance; what it stores is its toJSON.
        const plain = field === 'cookie' && value !== null ? JSON.parse(JSON.stringify(value)) : value;
        const text = serializer.stringify({ [field]: plain });
        if (typeof text !== 'string') {
          throw new InvalidOptionsError(
            [{ path: 'serializer.stringify', message: `must return a string (got ${typeof text})` }],
            { context: 'RedkitSessionStore' },
          );
        }
        stored[field] = text;
      }
      return stored;
    },
    async decode(stored) {
      const session: FrameworkSessionData = {};
      for (const [field, text] of Object.entries(stored)) {
        session[field] = typeof text === 'string' ? await decodeField(serializer, field, text) : text;
      }
      return session;
    },
  };
}

/**
 * One field's value. A field the serializer did not write (stored before a
 * serializer was configured) is read as it was stored.
 */
async function decodeField(serializer: SessionSerializer, field: string, text: string): Promise<unknown> {
  let parsed: unknown;
  try {
    parsed = await serializer.parse(text);
  } catch {
    return text;
  }
  return typeof parsed === 'object' && parsed !== null && Object.hasOwn(parsed, field)
    ? (parsed as Record<string, unknown>)[field]
    : text;
}
