import { namespaceSchema, redisConnectionSchema } from '@redkit/core';
import { z } from 'zod';

/** Options of {@link RedkitKeyvStore}. */
export const keyvStoreOptionsSchema = z.strictObject({
  /** An ioredis `Redis` or `Cluster` (see `connect()` in @redkit/core). */
  redis: redisConnectionSchema,
  /**
   * The redkit namespace every key starts with: `<namespace>:{<Keyv key>}:kv`.
   * Keyv's own namespace (its `namespace` option, `'keyv'` unless set) stays
   * inside the Keyv key, so several Keyv namespaces can share this one.
   * @default 'keyv'
   */
  namespace: namespaceSchema.default('keyv'),
  /**
   * Reject a failed call instead of resolving it as a miss (`get`), `false`
   * (`set`, `delete`, `has`) or nothing (`clear`). The error is emitted as
   * `'error'` either way, which Keyv forwards to its own `'error'` listeners.
   * @default false
   */
  throwOnErrors: z.boolean({ message: 'must be a boolean' }).default(false),
  /**
   * SCAN COUNT hint of `clear()` and `iterator()`, which walk every master.
   * @default 500
   */
  scanCount: z.number({ message: 'must be a number' }).int().positive().default(500),
});

/** What {@link RedkitKeyvStore} accepts. */
export type KeyvStoreOptions = z.input<typeof keyvStoreOptionsSchema>;
