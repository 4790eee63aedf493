import { randomBytes } from 'node:crypto';
import { isCluster, type RedisConnection } from '@redkit/core';
import type { Cluster } from 'ioredis';

export interface AclUserOptions {
  /** Commands the user may run, e.g. `['evalsha', 'eval', 'get']` or categories like `'@read'`. */
  commands: readonly string[];
  /** Key patterns the user may touch. @default ['*'] */
  keys?: readonly string[];
  /** Pub/sub channel patterns. @default ['*'] */
  channels?: readonly string[];
}

export interface AclUser {
  readonly username: string;
  readonly password: string;
  /** Deletes the user from every node. */
  remove(): Promise<void>;
}

/**
 * Commands every client needs just to connect: the ready check (INFO), PING,
 * and on a cluster the slot map.
 */
const connectionCommands = ['info', 'ping', 'cluster|slots', 'cluster|shards', 'cluster|info', 'readonly'];

/** Every node of a cluster (masters and replicas) once it knows its slot map, or the one server. */
async function nodesOf(redis: RedisConnection) {
  if (!isCluster(redis)) return [redis];
  const cluster = redis;
  if (cluster.status !== 'ready') await new Promise((resolve) => cluster.once('ready', resolve));
  return cluster.nodes('all');
}

/**
 * Creates an ACL user allowed exactly `commands` (plus what connecting needs)
 * on every node, so a test can prove a pattern works with the least
 * privilege its docs list.
 *
 * @example
 * ```ts
 * const user = await createAclUser(admin, { commands: ['evalsha', 'eval'] })
 * const redis = connect({ url, username: user.username, password: user.password })
 * ```
 */
export async function createAclUser(admin: RedisConnection, options: AclUserOptions): Promise<AclUser> {
  const username = `redkit-test-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const rules = [
    'on',
    `>${password}`,
    'resetkeys',
    ...(options.keys ?? ['*']).map((pattern) => `~${pattern}`),
    'resetchannels',
    ...(options.channels ?? ['*']).map((pattern) => `&${pattern}`),
    '-@all',
    ...[...connectionCommands, ...options.commands].map((command) => `+${command}`),
  ];
  const nodes = await nodesOf(admin);
  await Promise.all(nodes.map((node) => node.call('ACL', 'SETUSER', username, ...rules)));
  return {
    username,
    password,
    async remove() {
      await Promise.all((await nodesOf(admin)).map((node) => node.call('ACL', 'DELUSER', username)));
    },
  };
}
