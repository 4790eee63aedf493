import type { TypedSchemaOptions } from '@redkit/core';
import { callTimeoutSchema, durationSchema, redisConnectionSchema, textSchema } from '@redkit/core';
import { hotKeyDetectorOptionsSchema } from '@redkit/hotkeys';
import { z } from 'zod';
import type { Serializer } from './serializer.js';
import { writeBehindSchema } from './write-behind-options.js';

const day = 86_400_000;
const duration = (min = 0, max = 365 * day) => durationSchema({ min, max });

/**
 * A Standard Schema (zod 3.24+/4, valibot, arktype …) that cached values must
 * pass on every read from Redis; a value that fails is a miss (reported) and
 * is loaded again.
 */
export interface StandardSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) =>
      | { readonly value: Output; readonly issues?: undefined }
      | { readonly issues: readonly { readonly message: string }[] }
      | Promise<
          | { readonly value: Output; readonly issues?: undefined }
          | { readonly issues: readonly { readonly message: string }[] }
        >;
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

/** The value type a schema produces. */
export type OutputOf<Schema> = Schema extends StandardSchema<infer Output> ? Output : never;

const standardSchema = z.custom<StandardSchema>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as StandardSchema)['~standard']?.validate === 'function',
  'must be a Standard Schema (a zod, valibot or arktype schema)',
);

const serializerSchema = z.custom<Serializer>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Serializer).serialize === 'function' &&
    typeof (value as Serializer).deserialize === 'function',
  'must be an object with serialize(value) → string and deserialize(text) → value',
);

/** A tag name: letters, digits and `_ . : / -`, up to 128 characters. */
export const tagSchema = z
  .string({ message: 'must be a string' })
  .regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'must be 1–128 letters, digits or _ . : / -');

/** A cache key as the application names it. */
export const keySchema = textSchema(1024);

const refreshAheadSchema = z.union(
  [
    z.literal(false),
    z
      .object({
        /** Refresh in the background once this fraction of an entry's ttl has passed. */
        fraction: z.number().gt(0, 'must be greater than 0').lt(1, 'must be less than 1'),
      })
      .strict(),
    z
      .object({
        /**
         * XFetch (probabilistic early expiration): refresh when
         * `-beta · δ · ln(random) ≥ time left`, δ being the measured duration of
         * the load that produced the entry. 1 is the paper's default; larger
         * refreshes earlier.
         */
        beta: z.number().gt(0, 'must be greater than 0').max(100),
      })
      .strict(),
  ],
  { message: 'must be false, { fraction } or { beta }' },
);

const memoryTierSchema = z.union([
  z.literal(false),
  z
    .object({
      /** Most entries kept. @default 10000 */
      maxEntries: z.number().int().min(1).default(10_000),
      /** Most bytes of serialized values kept. @default 64 MiB */
      maxBytes: z
        .number()
        .int()
        .min(1)
        .default(64 * 1024 * 1024),
      /** Longest an entry stays in memory (also bounded by its freshness). @default the entry's ttl */
      ttl: duration(1).optional(),
    })
    .strict(),
]);

const copiesSchema = z.number().int().min(0).max(64);

/** Options of `new Cache()`. */
export const cacheOptionsSchema = z
  .object({
    redis: redisConnectionSchema,
    /** Key prefix: keys are `<namespace>:{<key>}:…`. @default "cache" */
    namespace: z.string().default('cache'),
    /** How long an entry is fresh. @default "1m" */
    ttl: duration(1).default(60_000),
    /**
     * Grace after an entry stops being fresh during which it is still kept and
     * may be served stale (stale-while-revalidate, stale-if-error). @default 0
     */
    grace: duration().default(0),
    /** Up to this fraction of each ttl is taken off at random, so keys written together do not expire together. @default 0.1 */
    jitter: z.number().min(0).max(0.5).default(0.1),
    /** Loaders that return `undefined` ("not found") are cached this long; 0 caches nothing. @default 0 */
    negativeTtl: duration().default(0),
    /** Serve a stale entry (within `grace`) at once and refresh it in the background. @default true */
    staleWhileRevalidate: z.boolean().default(true),
    /** When the loader fails, serve a stale entry (within `grace`) and wait `errorBackoff` before calling it again. @default true */
    staleIfError: z.boolean().default(true),
    /** How long a failed loader is left alone while a stale value is served. @default "1s" */
    errorBackoff: duration(1).default(1_000),
    /** Refresh entries before they expire: `{ fraction: 0.8 }` or XFetch `{ beta: 1 }`. @default false */
    refreshAhead: refreshAheadSchema.default(false),
    /**
     * Soft loader timeout: when a stale value exists and the loader takes
     * longer, the stale value is returned and the load goes on in the
     * background. @default undefined (wait for the loader)
     */
    softTimeout: duration(1).optional(),
    /** Hard loader timeout: the load is abandoned (its signal aborted) and `LoaderTimeoutError` thrown. @default "10s" */
    hardTimeout: duration(1, 10 * 60_000).default(10_000),
    /**
     * How long callers wait for another process that holds the key's load
     * lease before loading themselves. @default "5s"
     */
    lockWait: duration(0, 10 * 60_000).default(5_000),
    /** In-memory tier in front of Redis, kept coherent across processes over pub/sub. @default false */
    memory: memoryTierSchema.optional(),
    /** @deprecated The old name of `memory`. */
    l1: memoryTierSchema.optional(),
    /**
     * Hot-key detection: every read is counted in a HotKeyDetector
     * (@redkit/hotkeys: count-min sketch + top-K over the last `window`);
     * `cache.hotKeys()` lists the hot keys, and `hot-key` / `hot-key-cooled`
     * events report changes. With `pin`, hot keys are kept in memory (see
     * docs/cache.md, "Hot keys"). `false` records nothing. @default false
     */
    hotKeys: z
      .union([
        z.literal(false),
        hotKeyDetectorOptionsSchema.extend({
          /**
           * Keep hot keys in memory while they are hot, outside the `memory` LRU
           * (and even without `memory`), invalidated like its entries.
           * `false` only detects. @default { maxEntries: 64 }
           */
          pin: z
            .union([
              z.literal(false),
              z
                .object({
                  /** Most keys pinned at once; keys that become hot beyond it are not pinned. @default 64 */
                  maxEntries: z.number().int().min(1).max(10_000).default(64),
                })
                .strict(),
            ])
            .default({ maxEntries: 64 }),
        }),
      ])
      .default(false),
    /**
     * Copies of each key for hot keys on a cluster: every write also stores this
     * many copies, under hash tags spread over the slot space (one per 1/N of
     * it, so a multiple of the master count spreads them evenly), and reads
     * pick a copy at random. Costs N + 1 writes per set or delete. 0 = off. @default 0
     */
    copies: copiesSchema.optional(),
    /** @deprecated The old name of `copies` (copies of a key, not Redis replicas: those are `readRedis`). */
    replicas: copiesSchema.optional(),
    /**
     * A second client that reads (GET, MGET) go to, e.g. a Cluster client
     * with `scaleReads: 'slave'` so reads are served by replicas. Writes,
     * scripts and leases stay on `redis`. Replicas lag: see docs/cache.md. @default undefined (reads go to `redis`)
     */
    readRedis: redisConnectionSchema.optional(),
    /** Turns values into text and back. @default JSON */
    serializer: serializerSchema.optional(),
    /** Serialized values at least this many bytes long are gzipped. @default undefined (never) */
    compressAbove: z.number().int().min(1).optional(),
    /** Schema every value read from Redis must pass; failures are misses, reported and reloaded. */
    schema: standardSchema.optional(),
    /**
     * Part of every key, so values written under an older schema are never
     * read after a deploy that changes the shape. @default "1" when a schema is given
     */
    schemaVersion: z
      .union([z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1–32 letters, digits or _ . -'), z.number().int()])
      .optional(),
    /** How long a tag's invalidation is remembered; tagged entries live at most this long. @default "7d" */
    tagTtl: duration(1000).default(7 * day),
    /** Bound on each Redis call. @default the client's command timeout */
    timeout: callTimeoutSchema.optional(),
    /** Circuit breaker: after `failures` Redis errors in a row, skip Redis for `cooldown`. */
    breaker: z
      .object({
        /** Consecutive failures that open the breaker. @default 5 */
        failures: z.number().int().min(1).default(5),
        /** How long the breaker stays open before one call may try Redis again. @default "5s" */
        cooldown: duration(1).default(5_000),
      })
      .strict()
      .default({ failures: 5, cooldown: 5_000 }),
    /**
     * Durable write-behind: `{ partitions, stream }` enables
     * `writeBehind(key, value)` and `writeBehindFlusher()` (see docs/cache.md,
     * "Write-behind"). It changes where keys live. @default false
     */
    writeBehind: z.union([z.literal(false), writeBehindSchema]).default(false),
  })
  .strict()
  .superRefine((options, context) => {
    // An old name and its new one together would leave it unclear which one counts.
    for (const [old, current] of renamedOptions) {
      if (options[old] !== undefined && options[current] !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [old],
          message: `is the old name of ${current}: give only one of them`,
        });
      }
    }
  });

/** Options renamed so each term has one meaning: [old name, new name]. The old names still work. */
const renamedOptions = [
  ['l1', 'memory'],
  ['replicas', 'copies'],
] as const;

/** The memory tier's options (`memory`, or its old name `l1`), or false. */
export function memoryOf(options: ResolvedCacheOptions): MemoryTierSettings | false {
  return options.memory ?? options.l1 ?? false;
}
export type MemoryTierSettings = Exclude<z.output<typeof memoryTierSchema>, false>;

/** The number of copies of each key (`copies`, or its old name `replicas`), and the name the caller gave it. */
export function copiesOf(options: ResolvedCacheOptions): { count: number; option: 'copies' | 'replicas' } {
  if (options.copies !== undefined) return { count: options.copies, option: 'copies' };
  return { count: options.replicas ?? 0, option: 'replicas' };
}

/** Options of `new Cache()`; `schema` types the values. */
export type CacheOptions<Schema extends StandardSchema | undefined = undefined> = TypedSchemaOptions<
  typeof cacheOptionsSchema,
  Schema
>;
export type ResolvedCacheOptions = z.output<typeof cacheOptionsSchema>;

/** Options of one write (`set`, and the write that follows a load). */
export const writeOptionsSchema = z
  .object({
    /** Freshness of this entry. @default the cache's ttl */
    ttl: duration(1).optional(),
    /** Grace of this entry. @default the cache's grace */
    grace: duration().optional(),
    /** Tags, for `invalidateTags`. */
    tags: z.array(tagSchema).max(64).optional(),
  })
  .strict();
export type WriteOptions = z.input<typeof writeOptionsSchema>;

/** Options of `getOrSet` and `getOrSetMany`. */
export const getOrSetOptionsSchema = writeOptionsSchema
  .extend({
    /** Soft loader timeout of this call. @default the cache's softTimeout */
    softTimeout: duration(1).optional(),
    /** Hard loader timeout of this call. @default the cache's hardTimeout */
    hardTimeout: duration(1, 10 * 60_000).optional(),
  })
  .strict();
export type GetOrSetOptions = z.input<typeof getOrSetOptionsSchema>;
