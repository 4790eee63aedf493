import { parseConnectionUrl } from '@redkit/core';

/** The two client classes of an ioredis module (any major: 5 or 6). */
export interface IoredisModule<RedisClient, ClusterClient> {
  Redis: new (options: Record<string, unknown>) => RedisClient;
  Cluster: new (nodes: { host: string; port: number }[], options?: Record<string, unknown>) => ClusterClient;
}

/**
 * A plain client of the given ioredis module for a harness URL (standalone,
 * Sentinel or Cluster), without @redkit/core's `connect()` defaults: to check
 * that a pattern works with another ioredis major, or with a client as users
 * build it themselves. The caller disconnects it.
 *
 * @example
 * ```ts
 * import * as ioredis5 from 'ioredis5' // "ioredis5": "npm:ioredis@5"
 * const client = connectWith(ioredis5, t.url)
 * ```
 */
export function connectWith<RedisClient, ClusterClient>(
  module: IoredisModule<RedisClient, ClusterClient>,
  url: string,
): RedisClient | ClusterClient {
  const { topology, nodes, masterName, role, username, password, db, tls } = parseConnectionUrl(url);
  const auth = { ...(username ? { username } : {}), ...(password !== undefined ? { password } : {}) };
  const secure = tls ? { tls: {} } : {};
  if (topology === 'cluster') return new module.Cluster(nodes, { redisOptions: { ...auth, ...secure } });
  if (topology === 'sentinel') {
    return new module.Redis({
      sentinels: nodes,
      name: masterName,
      role: role === 'replica' ? 'slave' : 'master',
      db: db ?? 0,
      ...auth,
      ...secure,
    });
  }
  const [node] = nodes;
  return new module.Redis({ ...node, db: db ?? 0, ...auth, ...secure });
}
