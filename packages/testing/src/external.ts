import { parseConnectionUrl } from '@redkit/core';

/** Servers given by the environment instead of started by the harness. */
export interface ExternalServers {
  /** From `REDIS_URL`. */
  standaloneUrl?: string;
  /** From `REDIS_CLUSTER_NODES` (`host:port,host:port`), as a `redis+cluster://` URL. */
  clusterUrl?: string;
  /** From `REDIS_SENTINEL_URL` (`redis+sentinel://host:port,…/<master-name>`). */
  sentinelUrl?: string;
}

/** Reads `REDIS_URL`, `REDIS_SENTINEL_URL` and `REDIS_CLUSTER_NODES`; validates them so a typo fails loudly. */
export function externalServers(env: NodeJS.ProcessEnv = process.env): ExternalServers {
  const servers: ExternalServers = {};
  if (env.REDIS_URL) {
    parseConnectionUrl(env.REDIS_URL);
    servers.standaloneUrl = env.REDIS_URL;
  }
  if (env.REDIS_CLUSTER_NODES) {
    const url = env.REDIS_CLUSTER_NODES.includes('://')
      ? env.REDIS_CLUSTER_NODES
      : `redis+cluster://${env.REDIS_CLUSTER_NODES}`;
    parseConnectionUrl(url);
    servers.clusterUrl = url;
  }
  if (env.REDIS_SENTINEL_URL) {
    if (parseConnectionUrl(env.REDIS_SENTINEL_URL).topology !== 'sentinel') {
      throw new Error(`REDIS_SENTINEL_URL must be a redis+sentinel:// URL, got ${env.REDIS_SENTINEL_URL}`);
    }
    servers.sentinelUrl = env.REDIS_SENTINEL_URL;
  }
  return servers;
}
