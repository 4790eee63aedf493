import { connect, keySlot } from '@redkit/core';
import type { Cluster } from 'ioredis';
import { adminCall, parseInfo } from './admin.js';
import { type Backend, type BackendName, selectBackend } from './backend.js';
import { toArgs } from './binary-node.js';
import { HarnessError } from './errors.js';
import type { RedisNode } from './node.js';
import {
  type FailoverOptions,
  type FailoverResult,
  probeWrite,
  type ReplicatedRedis,
  type ResyncOptions,
  type ResyncResult,
  replicaOffset,
  resyncReplica,
} from './replication.js';
import { type ClientOptions, ClientTracker } from './standalone.js';
import { waitFor } from './wait.js';

export interface ClusterOptions {
  /** @default 3 */
  masters?: number;
  /** @default 1 */
  replicasPerMaster?: number;
  /**
   * `cluster-node-timeout`: how long a master may be unreachable before its
   * replica takes over. @default 2000
   */
  nodeTimeoutMs?: number;
  /** @default REDKIT_TEST_BACKEND or "binary" */
  backend?: BackendName;
  /** Extra `redis-server` arguments for every node. */
  args?: string[];
}

/** One node as the cluster sees it. */
export interface ClusterNodeInfo {
  readonly node: RedisNode;
  readonly id: string;
  readonly role: 'master' | 'replica';
  /** For a replica, the id of its master. */
  readonly masterId?: string;
  /** Slot ranges a master serves, inclusive. */
  readonly slots: readonly (readonly [number, number])[];
  /** Flagged failing (`fail` or `fail?`) by the node asked. */
  readonly failing: boolean;
}

/** A cluster started by the harness. */
export interface RedisCluster extends ReplicatedRedis {
  readonly kind: 'cluster';
  readonly backend: BackendName;
  /** Every node, masters and replicas, in start order. */
  readonly nodes: readonly RedisNode[];
  readonly nodeTimeoutMs: number;
  /** `redis+cluster://host:port,…` listing every node as a seed. */
  readonly url: string;
  /** A cluster client made with @redkit/core's `connect()`; closed by `stop()`. */
  client(options?: ClientOptions): Cluster;
  /** The cluster's current view of its nodes (asked of a live node). */
  topology(): Promise<ClusterNodeInfo[]>;
  masters(): Promise<RedisNode[]>;
  replicasOf(master: RedisNode): Promise<RedisNode[]>;
  /** The master currently serving the slot of `key`. */
  masterOf(key: string): Promise<RedisNode>;
  /** Stops a master and resolves once a replica has taken over (see {@link FailoverOptions}). */
  failover(master: RedisNode, options?: FailoverOptions): Promise<FailoverResult>;
  /**
   * Puts `replica` through a full resynchronization with its master (its
   * master's backlog is made too short to serve it a partial one, and it is
   * restarted) and resolves once its link is up again, without waiting for it
   * to catch up: right after, its offset may trail its master's.
   */
  resync(replica: RedisNode, options?: ResyncOptions): Promise<ResyncResult>;
  /**
   * Resolves when every running node reports `cluster_state:ok`, every node
   * sees the same masters and replicas, and every replica is in sync: a probe
   * write on each master has reached each of its replicas (its replication
   * offset has reached its master's). A replica whose link is up is not
   * necessarily receiving writes yet, so the link status alone is not enough.
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function parseClusterNodes(text: string, nodes: readonly RedisNode[]): ClusterNodeInfo[] {
  const byAddress = new Map(nodes.map((node) => [node.address, node]));
  const infos: ClusterNodeInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 8) continue;
    const [id, endpoint, flagText, master, , , , , ...slotFields] = fields as [string, string, string, string];
    const address = endpoint.split('@')[0] ?? '';
    const node = byAddress.get(address);
    if (!node) continue;
    const flags = flagText.split(',');
    const slots: [number, number][] = [];
    for (const field of slotFields as string[]) {
      if (field.startsWith('[')) continue; // slot being migrated
      const [from, to] = field.split('-').map(Number);
      if (from !== undefined) slots.push([from, to ?? from]);
    }
    infos.push({
      node,
      id,
      role: flags.includes('master') ? 'master' : 'replica',
      ...(master !== '-' ? { masterId: master } : {}),
      slots,
      failing: flags.includes('fail') || flags.includes('fail?'),
    });
  }
  return infos;
}

class HarnessCluster implements RedisCluster {
  readonly kind = 'cluster' as const;
  readonly backend: BackendName;
  readonly nodes: readonly RedisNode[];
  readonly nodeTimeoutMs: number;
  readonly url: string;
  private readonly clients = new ClientTracker();
  private readonly masterCount: number;

  constructor(backend: Backend, nodes: RedisNode[], nodeTimeoutMs: number, masterCount: number) {
    this.backend = backend.name;
    this.nodes = nodes;
    this.nodeTimeoutMs = nodeTimeoutMs;
    this.masterCount = masterCount;
    this.url = `redis+cluster://${nodes.map((node) => node.address).join(',')}`;
  }

  client(options: ClientOptions = {}): Cluster {
    return this.clients.track(connect({ ...options, url: this.url }) as Cluster);
  }

  private async liveNodes(): Promise<RedisNode[]> {
    return this.nodes.filter((node) => node.running && !node.paused);
  }

  async topology(): Promise<ClusterNodeInfo[]> {
    let lastError: unknown;
    for (const node of await this.liveNodes()) {
      try {
        const text = String(await adminCall(node.host, node.port, ['CLUSTER', 'NODES']));
        return parseClusterNodes(text, this.nodes);
      } catch (error) {
        lastError = error;
      }
    }
    throw new HarnessError('no live cluster node answered CLUSTER NODES', { cause: lastError });
  }

  async masters(): Promise<RedisNode[]> {
    return (await this.topology()).filter((info) => info.role === 'master' && !info.failing).map((info) => info.node);
  }

  async replicasOf(master: RedisNode): Promise<RedisNode[]> {
    const topology = await this.topology();
    const id = topology.find((info) => info.node === master)?.id;
    return topology.filter((info) => info.role === 'replica' && info.masterId === id).map((info) => info.node);
  }

  async masterOf(key: string): Promise<RedisNode> {
    const slot = keySlot(key);
    const owner = (await this.topology()).find(
      (info) => info.role === 'master' && !info.failing && info.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!owner) throw new HarnessError(`no live master serves slot ${slot} of ${key}`);
    return owner.node;
  }

  async waitHealthy(timeoutMs = this.nodeTimeoutMs + 10_000): Promise<void> {
    const expectedNodes = this.nodes.length;
    let lastProblem = '';
    await waitFor(
      async () => {
        const live = await this.liveNodes();
        for (const node of live) {
          const info = parseInfo(await adminCall(node.host, node.port, ['CLUSTER', 'INFO']));
          if (info.get('cluster_state') !== 'ok' || info.get('cluster_slots_assigned') !== '16384') {
            lastProblem = `${node.address}: cluster_state=${info.get('cluster_state')}`;
            return false;
          }
          if (Number(info.get('cluster_known_nodes')) < expectedNodes) {
            lastProblem = `${node.address} knows ${info.get('cluster_known_nodes')} of ${expectedNodes} nodes`;
            return false;
          }
          const replication = parseInfo(await adminCall(node.host, node.port, ['INFO', 'replication']));
          if (replication.get('role') === 'slave' && replication.get('master_link_status') !== 'up') {
            lastProblem = `${node.address}: replica link ${replication.get('master_link_status')}`;
            return false;
          }
        }
        // Every live node must see the same picture: each running node known
        // and not failing, each master serving slots, the rest replicas.
        for (const node of live) {
          const view = parseClusterNodes(
            String(await adminCall(node.host, node.port, ['CLUSTER', 'NODES'])),
            this.nodes,
          );
          for (const other of this.nodes.filter((candidate) => candidate.running)) {
            const entry = view.find((info) => info.node === other);
            if (!entry || entry.failing || (entry.role === 'master' && entry.slots.length === 0)) {
              lastProblem = `${node.address} does not yet see ${other.address} as a healthy master or replica`;
              return false;
            }
          }
          const masters = view.filter((info) => info.role === 'master' && !info.failing).length;
          if (masters !== this.masterCount) {
            lastProblem = `${node.address} sees ${masters} masters, expected ${this.masterCount}`;
            return false;
          }
        }
        const behind = await this.replicasBehind(await this.topology());
        if (behind) {
          lastProblem = behind;
          return false;
        }
        return true;
      },
      {
        timeoutMs: timeoutMs,
        intervalMs: 100,
        message: () => `cluster not healthy after ${timeoutMs}ms: ${lastProblem}`,
        ignoreErrors: true,
      },
    );
  }

  /**
   * Writes a probe on every master that has running replicas, then checks that
   * each of those replicas has processed the replication stream up to the
   * master's offset after the probe. Returns what is behind, or undefined.
   */
  private async replicasBehind(topology: ClusterNodeInfo[]): Promise<string | undefined> {
    for (const master of topology) {
      if (master.role !== 'master' || master.failing || !master.node.running) continue;
      const replicas = topology.filter(
        (info) => info.role === 'replica' && info.masterId === master.id && info.node.running,
      );
      if (replicas.length === 0) continue;
      const target = await probeWrite(master.node, probeKeyFor(master.slots));
      for (const replica of replicas) {
        const offset = await replicaOffset(replica.node);
        if (offset < target) {
          return `replica ${replica.node.address} is at offset ${offset}, its master ${master.node.address} at ${target}`;
        }
      }
    }
    return undefined;
  }

  async resync(replica: RedisNode, options: ResyncOptions = {}): Promise<ResyncResult> {
    const topology = await this.topology();
    const self = topology.find((info) => info.node === replica);
    const master = topology.find((info) => info.id === self?.masterId && info.role === 'master');
    if (self?.role !== 'replica' || !master) {
      throw new HarnessError(`${replica.address} is not a replica of a live master`);
    }
    return resyncReplica(master.node, replica, probeKeyFor(master.slots), options);
  }

  async failover(master: RedisNode, options: FailoverOptions = {}): Promise<FailoverResult> {
    const { mode = 'kill', rejoin = true } = options;
    const replicas = await this.replicasOf(master);
    if (replicas.length === 0) {
      throw new HarnessError(`${master.address} has no replica to promote (is it a master with replicas?)`);
    }
    const started = Date.now();
    if (mode === 'kill') {
      await master.kill();
    } else {
      const replica = replicas[0] as RedisNode;
      await adminCall(replica.host, replica.port, ['CLUSTER', 'FAILOVER']);
    }

    let promoted: RedisNode | undefined;
    const timeoutMs = this.nodeTimeoutMs + 10_000;
    await waitFor(
      async () => {
        for (const replica of replicas) {
          const role = (await adminCall(replica.host, replica.port, ['ROLE'])) as unknown[];
          if (role[0] !== 'master') continue;
          const info = parseInfo(await adminCall(replica.host, replica.port, ['CLUSTER', 'INFO']));
          if (info.get('cluster_state') === 'ok') {
            promoted = replica;
            return true;
          }
        }
        return false;
      },
      {
        timeoutMs: timeoutMs,
        intervalMs: 25,
        message: () => `no replica of ${master.address} was promoted within ${timeoutMs}ms`,
        ignoreErrors: true,
      },
    );
    const durationMs = Date.now() - started;
    if (mode === 'kill' && rejoin) {
      await master.restart();
      await this.waitHealthy();
    } else if (mode === 'manual') {
      await this.waitHealthy();
    }
    return { promoted: promoted as RedisNode, durationMs };
  }

  async stop(): Promise<void> {
    this.clients.closeAll();
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}

/** A key of the harness (written and deleted at once) in a slot that `slots` cover. */
function probeKeyFor(slots: readonly (readonly [number, number])[]): string {
  for (let i = 0; i < 1_000_000; i++) {
    const key = `redkit-testing:{probe-${i}}`;
    const slot = keySlot(key);
    if (slots.some(([from, to]) => slot >= from && slot <= to)) return key;
  }
  throw new HarnessError("no probe key found for the master's slots");
}

/**
 * Starts a Redis Cluster of `masters` masters with `replicasPerMaster`
 * replicas each, created with `redis-cli --cluster create`, and resolves once
 * it is healthy.
 *
 * @example
 * ```ts
 * const cluster = await startCluster({ masters: 3, replicasPerMaster: 1 })
 * const redis = cluster.client()
 * const { durationMs } = await cluster.failover(await cluster.masterOf('user:{42}'))
 * await cluster.stop()
 * ```
 */
export async function startCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  const { masters = 3, replicasPerMaster = 1, nodeTimeoutMs = 2_000 } = options;
  if (!Number.isInteger(masters) || masters < 3) throw new HarnessError('a cluster needs at least 3 masters');
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0) {
    throw new HarnessError('replicasPerMaster must be a whole number ≥ 0');
  }
  const backend = await selectBackend(options.backend);
  const args = [
    ...toArgs({
      'cluster-enabled': 'yes',
      'cluster-config-file': 'nodes.conf',
      'cluster-node-timeout': String(nodeTimeoutMs),
      // A replica may always take over, however long it was cut off: tests
      // inject faults on purpose and want the failover to happen.
      'cluster-replica-validity-factor': '0',
    }),
    ...(options.args ?? []),
  ];
  const count = masters * (1 + replicasPerMaster);
  const started = await Promise.allSettled(
    Array.from({ length: count }, () => backend.startNode({ args, cluster: true })),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw (failure as PromiseRejectedResult).reason;
  }
  const cluster = new HarnessCluster(backend, nodes, nodeTimeoutMs, masters);
  try {
    await backend.redisCli(
      [
        '--cluster',
        'create',
        ...nodes.map((node) => node.address),
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ],
      nodes[0] as RedisNode,
    );
    await cluster.waitHealthy();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
