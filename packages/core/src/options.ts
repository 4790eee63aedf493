import { z } from 'zod';
import { InvalidOptionsError } from './errors.js';
import { namespacePattern } from './keys.js';

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

/**
 * The `namespace` option of a pattern: the rule `Keyspace` enforces,
 * checked while parsing options so the error names the field.
 *
 * @example
 * ```ts
 * const optionsSchema = z.object({ namespace: namespaceSchema.default('jobs') })
 * ```
 */
export const namespaceSchema = z
  .string({ message: 'must be a string' })
  .regex(namespacePattern, 'must start with a letter or digit and contain only letters, digits and _ . - / :')
  .refine((value) => !value.endsWith(':'), 'must not end in ":"');

/**
 * An option that holds a zod schema (a message or metadata schema). Duck-typed
 * rather than `instanceof`, so a schema from another copy of zod is accepted.
 *
 * @example
 * ```ts
 * const optionsSchema = z.object({ schema: zodSchemaOption<z.ZodType>().optional() })
 * ```
 */
export function zodSchemaOption<Schema>(): z.ZodType<Schema> {
  return z.custom<Schema>(
    (value) => typeof value === 'object' && value !== null && typeof (value as z.ZodType).safeParse === 'function',
    { message: 'must be a zod schema' },
  );
}
