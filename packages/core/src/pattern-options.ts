import type { z } from 'zod';
import type { CallOptions } from './driver.js';
import { durationSchema } from './duration.js';
import { redisConnectionSchema } from './ioredis-driver.js';
import { namespaceSchema } from './options.js';

/**
 * The `timeout` option of a pattern: the bound on each call to Redis, 1 ms to
 * 1 minute. One definition, so every pattern accepts the same values with the
 * same messages; {@link callOptions} turns the parsed value into what the
 * driver takes.
 *
 * @example
 * ```ts
 * const optionsSchema = z.object({ timeout: callTimeoutSchema.optional() })
 * ```
 */
export const callTimeoutSchema = durationSchema({ min: 1, max: 60_000 });

/**
 * The options every pattern's constructor takes, for spreading into its zod
 * object: `redis`, `namespace` (checked by {@link namespaceSchema}, so a bad
 * prefix fails while parsing, before anything touches Redis) and `timeout`
 * ({@link callTimeoutSchema}). One definition, so each pattern accepts the
 * same values with the same messages.
 *
 * @param defaultNamespace the pattern's key prefix when none is given.
 * @example
 * ```ts
 * const geoIndexOptionsSchema = z.object({ ...patternOptions('geo'), name: patternNameSchema }).strict()
 * ```
 */
export function patternOptions(defaultNamespace: string) {
  return {
    /** The ioredis client (`Redis` or `Cluster`) that holds the pattern's keys. */
    redis: redisConnectionSchema,
    /** Key prefix: keys are `<namespace>:{<subject>}:…`. @default the pattern's own (e.g. "geo", "queue") */
    namespace: namespaceSchema.default(defaultNamespace),
    /** Bound on each call to Redis. @default the client's command timeout */
    timeout: callTimeoutSchema.optional(),
  };
}

/**
 * The per-call options for a parsed `timeout`: none when it is not set, so
 * the client's own command timeout bounds the call without an extra timer.
 *
 * @example
 * ```ts
 * this.call = callOptions(this.options.timeout)
 * ```
 */
export function callOptions(timeoutMs: number | undefined): CallOptions | undefined {
  return timeoutMs === undefined ? undefined : { timeoutMs };
}

/**
 * The options a pattern's constructor takes when one of them is a user's
 * schema (`Key`) that types the pattern: the zod input of `OptionsSchema`,
 * with that field typed as `Schema` so it can be inferred. Every other field,
 * its optionality and its doc comment stay as the zod schema says, so the
 * pattern states each field once.
 *
 * @example
 * ```ts
 * export type GeoIndexOptions<Schema extends z.ZodType | undefined = undefined> =
 *   TypedSchemaOptions<typeof geoIndexOptionsSchema, Schema>
 * ```
 */
export type TypedSchemaOptions<OptionsSchema extends z.ZodType, Schema, Key extends string = 'schema'> = {
  [Field in keyof z.input<OptionsSchema>]: Field extends Key ? Schema : z.input<OptionsSchema>[Field];
};
