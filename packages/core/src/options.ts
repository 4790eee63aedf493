import type { z } from 'zod';
import { InvalidOptionsError } from './errors.js';

/**
 * Parses options with a zod schema, turning a failure into an
 * {@link InvalidOptionsError} that names every bad field. Call it before
 * touching Redis so that bad input never writes anything.
 *
 * @param context names the call in the message, e.g. `"Cache"` or `"limit()"`.
 * @example
 * ```ts
 * const opts = parseOptions(cacheOptionsSchema, input, 'Cache')
 * ```
 */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  context?: string,
): z.output<Schema> {
  const result = schema.safeParse(input);
  if (!result.success) throw InvalidOptionsError.fromZod(result.error, context);
  return result.data;
}
