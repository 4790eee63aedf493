import type { z } from 'zod';
import { type InvalidOption, InvalidOptionsError } from './errors.js';

/** One issue of a failed check: where in the value, and what is wrong. */
export interface CheckIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Names each issue of a check of one argument by its full dotted path under
 * `prefix` (`metadata.car`, `data.0.name`), so that an error about a user's
 * value (metadata, a message, session data) points at the field as the
 * caller wrote it. Every pattern that checks user values reports issues this
 * way.
 *
 * @example
 * ```ts
 * throw new InvalidOptionsError(issuesAt(['metadata'], result.error.issues), { context })
 * ```
 */
export function issuesAt(prefix: readonly string[], issues: readonly CheckIssue[]): InvalidOption[] {
  return issues.map((issue) => ({ path: [...prefix, ...issue.path.map(String)].join('.'), message: issue.message }));
}

/**
 * Checks one argument (`field`) with `schema` and returns the schema's
 * output; a failure throws {@link InvalidOptionsError} whose paths start with
 * `field` (`from.lat`, `metadata.car`), with the zod error as `cause`.
 *
 * @example
 * ```ts
 * const { lon, lat } = parseField(pointSchema, point, 'point', 'add()')
 * ```
 */
export function parseField<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  field: string,
  context: string,
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new InvalidOptionsError(issuesAt([field], result.error.issues), { context, cause: result.error });
}
