import type { RedisConnection } from '@redkit/core';
import { expect, it } from 'vitest';
import { createAclUser } from '../acl.js';
import { describeTopologies, type TopologyContext } from '../vitest.js';

/** What {@link leastPrivilegeContract} needs to know about a pattern. */
export interface LeastPrivilegeOptions {
  /** The pattern's name, for the block's title: `<name> as a least-privilege ACL user`. */
  name: string;
  /** Exactly the commands the pattern's docs list (lower case, as `ACL SETUSER` takes them). */
  commands: readonly string[];
  /**
   * Key patterns the user may touch.
   * @default [`${namespace}:*`]
   */
  keys?: (namespace: string) => readonly string[];
  /**
   * Pub/sub channel patterns the user may use.
   * @default []
   */
  channels?: (namespace: string) => readonly string[];
  /**
   * The test's title.
   * @default 'every operation works with exactly the documented commands and keys'
   */
  title?: string;
  /** Test timeout in ms (vitest's default when not given). */
  timeoutMs?: number;
  /**
   * Runs every operation of the pattern, with its assertions, over `redis`: a
   * client of the restricted user. Build the instance under `t.namespace`.
   */
  run: (redis: RedisConnection, t: TopologyContext) => Promise<void>;
}

/**
 * Contract "least privilege": on every tested topology, creates an ACL user
 * allowed exactly the documented `commands` (plus what connecting needs), on
 * the documented keys and channels only, and runs every operation of the
 * pattern as that user. It proves the docs' command list is complete (a
 * missing command fails the operation with NOPERM) and that the user really is
 * restricted (a command outside the list is refused). Call it at the top level
 * of a test file, or run it against your own wrapper with the commands your
 * docs promise.
 *
 * @example
 * ```ts
 * leastPrivilegeContract({
 *   name: 'my store',
 *   commands: ['evalsha', 'eval', 'get'],
 *   run: async (redis, t) => {
 *     const store = new MyStore({ redis, namespace: t.namespace });
 *     expect(await store.get('a')).toBeUndefined();
 *   },
 * });
 * ```
 */
export function leastPrivilegeContract(options: LeastPrivilegeOptions): void {
  const title = options.title ?? 'every operation works with exactly the documented commands and keys';
  describeTopologies(`${options.name} as a least-privilege ACL user`, (t) => {
    it(
      title,
      async () => {
        const user = await createAclUser(t.redis, {
          commands: options.commands,
          keys: options.keys?.(t.namespace) ?? [`${t.namespace}:*`],
          channels: options.channels?.(t.namespace) ?? [],
        });
        const redis = t.client({ username: user.username, password: user.password });
        // The user is restricted: a command outside the list is refused.
        await expect(redis.call(options.commands.includes('flushall') ? 'SWAPDB' : 'FLUSHALL')).rejects.toThrow(
          /NOPERM/,
        );
        await options.run(redis, t);
      },
      options.timeoutMs,
    );
  });
}
