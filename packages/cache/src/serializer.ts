import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * Turns cached values into text and back. The default is JSON; plug in
 * superjson (`{ serialize: superjson.stringify, deserialize: superjson.parse }`)
 * for Dates, Maps and BigInts, or a binary format through base64.
 */
export interface Serializer {
  serialize(value: unknown): string;
  deserialize(text: string): unknown;
}

/** JSON, the default serializer. */
export const jsonSerializer: Serializer = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text),
};

/** A stored payload: the text, and whether it is gzipped (then base64, so entries stay strings). */
export interface EncodedPayload {
  readonly text: string;
  readonly compressed: boolean;
}

/** Serializes a value, gzipping it when its text is at least `compressAbove` bytes. */
export function encodePayload(
  value: unknown,
  serializer: Serializer,
  compressAbove: number | undefined,
): EncodedPayload {
  const text = serializer.serialize(value);
  if (typeof text !== 'string') throw new TypeError('the serializer must return a string');
  if (compressAbove === undefined || Buffer.byteLength(text) < compressAbove) return { text, compressed: false };
  return { text: gzipSync(text).toString('base64'), compressed: true };
}

/** Reverses {@link encodePayload}. */
export function decodePayload(text: string, compressed: boolean, serializer: Serializer): unknown {
  return serializer.deserialize(compressed ? gunzipSync(Buffer.from(text, 'base64')).toString() : text);
}
