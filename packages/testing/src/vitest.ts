import { randomUUID } from 'node:crypto';
import { assertSameSlot, connect, onScriptCall, type RedisConnection } from '@redkit/core';
import { afterAll, afterEach, describe, inject } from 'vitest';
import { serverLine } from './binaries.js';
import { type RedisCluster, startCluster } from './cluster.js';
import { externalServers } from './external.js';
import { type RedisSentinel, startSentinel } from './sentinel.js';
import { type ClientOptions, ClientTracker, type StandaloneRedis, startStandalone } from './standalone.js';

/** The three deployments every pattern is tested against. */
export type Topology = 'standalone' | 'sentinel' | 'cluster';

const allTopologies: readonly Topology[] = ['standalone', 'sentinel', 'cluster'];

/**
 * The topologies this run tests: `REDKIT_TEST_TOPOLOGIES` (a comma-separated
 * list, e.g. `cluster`), else all three.
 */
export function testedTopologies(env: NodeJS.ProcessEnv = process.env): Topology[] {
  const listed = env.REDKIT_TEST_TOPOLOGIES?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!listed || listed.length === 0) return [...allTopologies];
  for (const name of listed) {
    if (!allTopologies.includes(name as Topology)) {
      throw new Error(`REDKIT_TEST_TOPOLOGIES lists "${name}"; the topologies are ${allTopologies.join(', ')}`);
    }
  }
  return allTopologies.filter((topology) => listed.includes(topology));
}

/** Where one topology's server is. */
export interface TestServer {
  url: string;
  source: 'harness' | 'external';
}

/** What the global setup provides to every test file: the server of each tested topology. */
export type RedkitTestServers = Partial<Record<Topology, TestServer>>;

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
 * Vitest `globalSetup`: starts one standalone server, one Sentinel setup (a
 * primary, a replica and 3 sentinels) and one cluster of 3 masters + 3
 * replicas for the whole run (or uses `REDIS_URL`, `REDIS_SENTINEL_URL`,
 * `REDIS_CLUSTER_NODES`), and provides their addresses to test files.
 * `REDKIT_TEST_TOPOLOGIES` (e.g. `standalone,cluster`) starts only those.
 *
 * @example
 * ```ts
 * // vitest.global-setup.ts
 * export { setup } from '@redkit/testing/vitest'
 * ```
 */
export async function setup(project: ProvideTarget): Promise<() => Promise<void>> {
  const external = externalServers();
  const externalUrls: Record<Topology, string | undefined> = {
    standalone: external.standaloneUrl,
    sentinel: external.sentinelUrl,
    cluster: external.clusterUrl,
  };
  const starters: Record<Topology, () => Promise<StandaloneRedis | RedisSentinel | RedisCluster>> = {
    standalone: () => startStandalone(),
    sentinel: () => startSentinel(),
    cluster: () => startCluster({ masters: 3, replicasPerMaster: 1 }),
  };
  const labels: Record<Topology, string> = {
    standalone: 'standalone',
    sentinel: 'sentinel (primary + replica, 3 sentinels)',
    cluster: 'cluster of 3 masters + 3 replicas',
  };
  const started: (StandaloneRedis | RedisSentinel | RedisCluster)[] = [];
  const servers: RedkitTestServers = {};
  const timings: string[] = [];
  const startedAt = performance.now();
  const results = await Promise.allSettled(
    testedTopologies().map(async (topology) => {
      const url = externalUrls[topology];
      if (url) {
        servers[topology] = { url, source: 'external' };
        return;
      }
      const server = await starters[topology]();
      started.push(server);
      servers[topology] = { url: server.url, source: 'harness' };
      timings.push(`${labels[topology]} up in ${Math.round(performance.now() - startedAt)} ms`);
    }),
  );
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(started.map((server) => server.stop()));
    throw (failure as PromiseRejectedResult).reason;
  }
  // One line in the run's log says what the tests run against (CI runs several passes).
  const backend = started[0]?.backend;
  if (backend) {
    process.stdout.write(`redkit test servers: ${serverLine()} on the ${backend} backend; ${timings.join(', ')}\n`);
  }
  project.provide('redkit', servers);
  return async () => {
    await Promise.all(started.map((server) => server.stop()));
  };
}

/**
 * The server of one topology that the global setup started (or was given).
 * @throws when this run does not test that topology (`REDKIT_TEST_TOPOLOGIES`).
 */
export function testServer(topology: Topology): TestServer {
  const server = inject('redkit')[topology];
  if (!server) throw new Error(`the global setup started no ${topology} server (is it in REDKIT_TEST_TOPOLOGIES?)`);
  return server;
}

/** What a test body gets for one topology. */
export interface TopologyContext {
  readonly topology: Topology;
  /** URL of the shared server or cluster of this run. */
  readonly url: string;
  /**
   * Replicas of each master of the shared server: 0 standalone, 1 for the
   * Sentinel primary and for each cluster master.
   */
  readonly replicas: number;
  /** A key namespace unique to this describe block and topology. */
  readonly namespace: string;
  /** A new client (a separate connection), closed after the block. */
  client(options?: ClientOptions): RedisConnection;
  /** A client shared by the block, created on first use. */
  readonly redis: RedisConnection;
}

/**
 * Declares the same tests for each tested topology: a standalone server, a
 * Sentinel-managed primary and a cluster (see {@link testedTopologies}). Each
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
  for (const topology of testedTopologies()) {
    describe(`${name} [${topology}]`, () => {
      const url = testServer(topology).url;
      const tracker = new ClientTracker();
      let shared: RedisConnection | undefined;
      const context: TopologyContext = {
        topology,
        url,
        replicas: topology === 'standalone' ? 0 : 1,
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
