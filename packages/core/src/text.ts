import { z } from 'zod';

/**
 * A non-empty string of at most `maxLength` characters: names, members,
 * keys and ids that users hand to a pattern. One definition, so every
 * package bounds its text with the same rules and the same messages.
 *
 * @example
 * ```ts
 * const memberSchema = textSchema(1024)
 * ```
 */
export function textSchema(maxLength: number) {
  return z
    .string({ message: 'must be a string' })
    .min(1, 'must not be empty')
    .max(maxLength, `must be at most ${maxLength} characters`);
}
