/**
 * A geo index's member metadata as stored: checked against the index's
 * schema on write, stored as JSON of the schema's input, parsed and checked
 * again on read (an invalid stored value is reported as a `metadata-invalid`
 * event and left out, never thrown). Also decides whether a read joins
 * metadata at all.
 */
import { InvalidOptionsError, parseField, type TelemetryEmitter } from '@redkit/core';
import type { GeoEvents } from './events.js';
import type { MetadataSchema } from './options.js';

/** The metadata of one index, with its schema (none: the index stores no metadata). */
export class MetadataCodec<Metadata> {
  constructor(
    private readonly schema: MetadataSchema | undefined,
    private readonly events: TelemetryEmitter<GeoEvents>,
  ) {}

  /** Whether a read returns metadata: as requested, by default when the index has a schema. */
  wanted(requested: boolean | undefined, context: string): boolean {
    if (requested && !this.schema) {
      throw new InvalidOptionsError([{ path: 'metadata', message: 'this index has no metadata schema' }], {
        context,
      });
    }
    return requested ?? this.schema !== undefined;
  }

  /** The JSON to store for `value`, after checking it against the schema. */
  encode(value: unknown, context: string): string {
    const schema = this.schema;
    if (!schema) {
      throw new InvalidOptionsError([{ path: 'metadata', message: 'this index has no metadata schema' }], {
        context,
      });
    }
    parseField(schema, value, 'metadata', context);
    // What is stored is the schema's input, so a read parses it (and its transforms) again.
    return JSON.stringify(value);
  }

  /** A member's stored metadata, parsed; undefined (reported as an event) when it is not valid. */
  parse(member: string, raw: string): Metadata | undefined {
    const schema = this.schema;
    if (!schema) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      this.events.emit('metadata-invalid', { member, error: (error as Error).message });
      return undefined;
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      this.events.emit('metadata-invalid', { member, error: result.error.message });
      return undefined;
    }
    return result.data as Metadata;
  }
}
