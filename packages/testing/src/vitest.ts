import { randomUUID } from 'node:crypto';
import { assertSameSlot, connect, onScriptCall, type RedisConnection } from '@redkit/core';
import { afterAll, afterEach, describe, inject } from 'vitest';
import { serverLine } from './binaries.js';
import { type RedisCluster, startCluster } from './cluster.js';
import { externalServers } from './external.js';
import { type ClientOptions, ClientTracker, type StandaloneRedis, startStandalone } from './standalone.js';

/** The two topologies every pattern is tested against. */
export type Topology = 'standalone' | 'cluster';

/** What the global setup provides to every test file. */
export interface RedkitTestServers {
  standalone: { url: string; source: 'harness' | 'external' };
  cluster: { url: string; source: 'harness' | 'external' };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redkit: RedkitTestServers;
  }
}

/** The part of vitest's TestProject that the global setup uses. */
interface ProvideTarget {
  provide(key: 'redkit', value: RedkitTestServers): void;
}

/**
 * Vitest `globalSetup`: starts one standalone server and one cluster of 3
 * masters + 3 replicas for the whole run (or uses `REDIS_URL` /
 * `REDIS_CLUSTER_NODES`) and provides their addresses to test files.
 *
 * @example
 * ```ts
 * // vitest.global-setup.ts
 * export { setup } from '@redkit/testing/vitest'
 * ```
 */
export async function setup(project: ProvideTarget): Promise<() => Promise<void>> {
  const external = externalServers();
  const started: (StandaloneRedis | RedisCluster)[] = [];
  try {
    const startedAt = performance.now();
    const timed = async <T>(start: () => Promise<T>): Promise<[T, number]> => [
      await start(),
      Math.round(performance.now() - startedAt),
    ];
    const [standaloneTimed, clusterTimed] = await Promise.all([
      external.standaloneUrl ? undefined : timed(() => startStandalone()),
      external.clusterUrl ? undefined : timed(() => startCluster({ masters: 3, replicasPerMaster: 1 })),
    ]);
    const [standalone, cluster] = [standaloneTimed?.[0], clusterTimed?.[0]];
    // One line in the run's log says what the tests run against (CI runs several passes).
    const backend = standalone?.backend ?? cluster?.backend;
    if (backend) {
      const parts = [
        standaloneTimed && `standalone up in ${standaloneTimed[1]} ms`,
        clusterTimed && `cluster of 3 masters + 3 replicas up in ${clusterTimed[1]} ms`,
      ].filter(Boolean);
      process.stdout.write(`redkit test servers: ${serverLine()} on the ${backend} backend; ${parts.join(', ')}\n`);
    }
    if (standalone) started.push(standalone);
    if (cluster) started.push(cluster);
    project.provide('redkit', {
      standalone: standalone
        ? { url: standalone.url, source: 'harness' }
        : { url: external.standaloneUrl as string, source: 'external' },
      cluster: cluster
        ? { url: cluster.url, source: 'harness' }
        : { url: external.clusterUrl as string, source: 'external' },
    });
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()));
    throw error;
  }
  return async () => {
    await Promise.all(started.map((server) => server.stop()));
  };
}

/** What a test body gets for one topology. */
export interface TopologyContext {
  readonly topology: Topology;
  /** URL of the shared server or cluster of this run. */
  readonly url: string;
  /** A key namespace unique to this describe block and topology. */
  readonly namespace: string;
  /** A new client (a separate connection), closed after the block. */
  client(options?: ClientOptions): RedisConnection;
  /** A client shared by the block, created on first use. */
  readonly redis: RedisConnection;
}

/**
 * Declares the same tests for a standalone server and for the cluster. Each
 * gets its own namespace and clients, closed after the block.
 *
 * @example
 * ```ts
 * describeTopologies('fixed window', (t) => {
 *   it('admits the limit', async () => {
 *     const limiter = new RateLimiter({ redis: t.redis, namespace: t.namespace, ... })
 *   })
 * })
 * ```
 */
export function describeTopologies(name: string, body: (context: TopologyContext) => void): void {
  for (const topology of ['standalone', 'cluster'] as const) {
    describe(`${name} [${topology}]`, () => {
      const servers = inject('redkit');
      const url = servers[topology].url;
      const tracker = new ClientTracker();
      let shared: RedisConnection | undefined;
      const context: TopologyContext = {
        topology,
        url,
        namespace: `test:${topology}:${randomUUID().slice(0, 8)}`,
        client: (options) => tracker.track(connect({ ...options, url })),
        get redis() {
          shared ??= context.client();
          return shared;
        },
      };
      afterAll(() => tracker.closeAll());
      body(context);
    });
  }
}

/**
 * Checks every Lua script call made during each test: all its KEYS must hash
 * to one cluster slot, on either topology. Call once from a setup file.
 */
export function guardScriptSlots(): void {
  const violations: string[] = [];
  onScriptCall(({ script, keys }) => {
    try {
      assertSameSlot(keys);
    } catch (error) {
      violations.push(`${script.name}: ${(error as Error).message}`);
    }
  });
  afterEach(() => {
    if (violations.length === 0) return;
    const found = violations.splice(0);
    throw new Error(`script calls with KEYS in more than one slot:\n${found.join('\n')}`);
  });
}
