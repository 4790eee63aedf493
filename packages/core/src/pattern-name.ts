import { textSchema } from './text.js';

/**
 * The `name` of a pattern instance (a geo index, a sharded counter): the
 * subject of its keys, so all of one instance's keys share its hash tag.
 * Any text of 1 to 256 characters; the key builder escapes it.
 *
 * @example
 * ```ts
 * const optionsSchema = z.object({ name: patternNameSchema })
 * ```
 */
export const patternNameSchema = textSchema(256);
