import { gunzipSync, gzipSync } from 'node:zlib';
import { InvalidOptionsError } from '@redkit/core';
import { UnserializableValueError } from './errors.js';

/**
 * Turns cached values into text and back. The default is JSON (see
 * {@link jsonSerializer} for what it keeps); {@link superjsonSerializer}
 * keeps Date, Map, Set and BigInt; a binary format fits through base64.
 */
export interface Serializer {
  serialize(value: unknown): string;
  deserialize(text: string): unknown;
}

/**
 * JSON, the default serializer. It keeps strings, finite numbers, booleans,
 * null, plain objects and arrays. It loses, without an error: Date (read back
 * as its ISO string), Map and Set (read back as `{}`), `undefined` object
 * fields (dropped), NaN and Infinity (read back as null), class instances
 * (read back as plain objects). It fails on BigInt and circular objects
 * ({@link UnserializableValueError}). A schema that expects what JSON loses
 * (e.g. `z.date()`) rejects every read, so nothing is ever served from the
 * cache: use {@link superjsonSerializer} for such values.
 */
export const jsonSerializer: Serializer = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text),
};

/** A stored payload: the text, and whether it is gzipped (then base64, so entries stay strings). */
export interface EncodedPayload {
  readonly text: string;
  readonly compressed: boolean;
}

/** The part of superjson that {@link superjsonSerializer} uses (its default export, or an instance). */
export interface SuperJsonLike {
  stringify(value: unknown): string;
  parse(text: string): unknown;
}

/**
 * A serializer on superjson, which keeps Date, Map, Set, BigInt, RegExp, URL,
 * `undefined` fields, NaN and Infinity, and any type registered on the
 * instance (`superjson.registerCustom`). Its text is JSON (readable in
 * redis-cli, and by write-behind sinks). Pass your own superjson (the
 * `superjson` package, version 2): @redkit/cache does not depend on it.
 * Circular objects still fail ({@link UnserializableValueError}).
 *
 * @throws InvalidOptionsError naming `superjson` when it has no `stringify`/`parse`.
 * @example
 * ```ts
 * import superjson from 'superjson'
 * const cache = new Cache({ redis, namespace: 'app', serializer: superjsonSerializer(superjson) })
 * await cache.set('when', new Date()) // read back as a Date
 * ```
 */
export function superjsonSerializer(superjson: SuperJsonLike): Serializer {
  const candidate = superjson as Partial<SuperJsonLike> | null | undefined;
  if (typeof candidate?.stringify !== 'function' || typeof candidate.parse !== 'function') {
    throw new InvalidOptionsError(
      [{ path: 'superjson', message: 'must be superjson (an object with stringify and parse)' }],
      { context: 'superjsonSerializer()' },
    );
  }
  return {
    serialize: (value) => superjson.stringify(value),
    deserialize: (text) => superjson.parse(text),
  };
}

/**
 * Serializes a value, gzipping it when its text is at least `compressAbove` bytes.
 *
 * @throws UnserializableValueError naming `key` when the serializer fails or returns no string.
 */
export function encodePayload(
  value: unknown,
  serializer: Serializer,
  compressAbove: number | undefined,
  key: string,
): EncodedPayload {
  let text: unknown;
  try {
    text = serializer.serialize(value);
  } catch (error) {
    throw new UnserializableValueError(key, { cause: error });
  }
  if (typeof text !== 'string') {
    throw new UnserializableValueError(key, { cause: new TypeError('the serializer must return a string') });
  }
  if (compressAbove === undefined || Buffer.byteLength(text) < compressAbove) return { text, compressed: false };
  return { text: gzipSync(text).toString('base64'), compressed: true };
}

/** Reverses {@link encodePayload}. */
export function decodePayload(text: string, compressed: boolean, serializer: Serializer): unknown {
  return serializer.deserialize(compressed ? gunzipSync(Buffer.from(text, 'base64')).toString() : text);
}
