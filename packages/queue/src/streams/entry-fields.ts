/**
 * Reading the fields of a raw stream entry (`[field, value, field, value, …]`
 * as the server sends them): the message data `d`, attempts `n`, target group
 * `g`, last error `e`, and the dead-letter fields. Kept apart from the JSON
 * codec because only streams have entries.
 */
import type { RawFields } from './scripts.js';

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
