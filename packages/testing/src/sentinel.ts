import { connect } from '@redkit/core';
import type { Redis } from 'ioredis';
import { adminCall, parseInfo } from './admin.js';
import { type BackendName, selectBackend } from './backend.js';
import { HarnessError } from './errors.js';
import type { RedisNode } from './node.js';
import {
  type FailoverOptions,
  type FailoverResult,
  probeWrite,
  type ReplicatedRedis,
  type ResyncOptions,
  type ResyncResult,
  resyncReplica,
} from './replication.js';
import { type ClientOptions, ClientTracker } from './standalone.js';
import { waitFor } from './wait.js';

export interface SentinelOptions {
  /** Replicas of the primary. @default 1 */
  replicas?: number;
  /** Sentinels watching it. @default 3 */
  sentinels?: number;
  /** Sentinels that must agree the primary is down before a failover. @default 2 */
  quorum?: number;
  /** How long the primary may not answer before a sentinel calls it down. @default 1000 */
  downAfterMs?: number;
  /** Sentinel's `failover-timeout`: how long a failover may take before another is tried. @default 5000 */
  failoverTimeoutMs?: number;
  /** The name the sentinels monitor the primary under. @default "redkit" */
  masterName?: string;
  /** @default REDKIT_TEST_BACKEND or "binary" */
  backend?: BackendName;
  /** Extra `redis-server` arguments for the primary and its replicas. */
  args?: string[];
}

/** A primary, its replicas and the sentinels watching them, started by the harness. */
export interface RedisSentinel extends ReplicatedRedis {
  readonly kind: 'sentinel';
  readonly backend: BackendName;
  readonly masterName: string;
  /** The primary and replicas as started (which one is primary changes with failovers). */
  readonly nodes: readonly RedisNode[];
  readonly sentinels: readonly RedisNode[];
  /** `redis+sentinel://host:port,…/<masterName>`: what @redkit/core's `connect()` takes. */
  readonly url: string;
  /** The same with `?role=replica`: a connection to one of the replicas. */
  readonly replicaUrl: string;
  /** A client of the primary, through the sentinels, made with `connect()`; closed by `stop()`. */
  client(options?: ClientOptions & { role?: 'master' | 'replica' }): Redis;
  /** The node the sentinels name as primary. */
  primary(): Promise<RedisNode>;
  /** The other data nodes that run. */
  replicas(): Promise<RedisNode[]>;
  /** The primary, whatever `key` is: nothing is sharded. */
  masterOf(key: string): Promise<RedisNode>;
  /**
   * Fails the primary over (`master` must be it). `kill` (SIGKILL, as a
   * crash) resolves once the sentinels have promoted a replica and it serves
   * as primary; with `rejoin`, the old primary is restarted and the sentinels
   * make it a replica (about 10 s: they notice it on their next INFO round).
   * `manual` is a planned switch with nothing lost: writes are held on the
   * primary while its replicas catch up and `SENTINEL FAILOVER` runs, until
   * the old primary replicates from the new one (see the docs: Sentinel's
   * command alone loses the writes made until clients hear of the switch).
   */
  failover(master?: RedisNode, options?: FailoverOptions): Promise<FailoverResult>;
  /** `failover(primary, { mode: 'manual' })`. */
  manualFailover(): Promise<FailoverResult>;
  /**
   * Resolves when every running sentinel names the same running primary and
   * knows the other sentinels, and every running replica replicates from it
   * and has caught up with a probe write (its offset, not only its link).
   */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The harness's probe key (written and deleted at once). */
const probeKey = 'redkit-testing:probe';

class HarnessSentinel implements RedisSentinel {
  readonly kind = 'sentinel' as const;
  readonly url: string;
  readonly replicaUrl: string;
  private readonly clients = new ClientTracker();

  constructor(
    readonly backend: BackendName,
    readonly masterName: string,
    readonly nodes: readonly RedisNode[],
    readonly sentinels: readonly RedisNode[],
  ) {
    this.url = `redis+sentinel://${sentinels.map((node) => node.address).join(',')}/${encodeURIComponent(masterName)}`;
    this.replicaUrl = `${this.url}?role=replica`;
  }

  client(options: ClientOptions & { role?: 'master' | 'replica' } = {}): Redis {
    const { role, ...rest } = options;
    return this.clients.track(connect({ ...rest, url: role === 'replica' ? this.replicaUrl : this.url }) as Redis);
  }

  /** The sentinels that run and answer. */
  private liveSentinels(): RedisNode[] {
    return this.sentinels.filter((node) => node.running && !node.paused);
  }

  /** `host:port` of the primary as `sentinel` names it, or undefined when it names none. */
  private async namedBy(sentinel: RedisNode): Promise<string | undefined> {
    const reply = (await adminCall(sentinel.host, sentinel.port, [
      'SENTINEL',
      'get-master-addr-by-name',
      this.masterName,
    ])) as [string, string] | null;
    return reply ? `${reply[0]}:${reply[1]}` : undefined;
  }

  /** `SENTINEL master` (as a map of its fields) and `SENTINEL replicas` (each a map), as `sentinel` sees them. */
  private async viewOf(sentinel: RedisNode): Promise<{ master: Map<string, string>; replicas: Map<string, string>[] }> {
    const toMap = (fields: string[]) => {
      const map = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
      return map;
    };
    const ask = (subcommand: string) =>
      adminCall(sentinel.host, sentinel.port, ['SENTINEL', subcommand, this.masterName]);
    const master = toMap((await ask('master')) as string[]);
    const replicas = ((await ask('replicas')) as string[][]).map(toMap);
    return { master, replicas };
  }

  /** What a live sentinel names as primary. */
  private async primaryAddress(): Promise<string> {
    let lastError: unknown;
    for (const sentinel of this.liveSentinels()) {
      try {
        const address = await this.namedBy(sentinel);
        if (address) return address;
      } catch (error) {
        lastError = error;
      }
    }
    throw new HarnessError(`no sentinel names a primary for ${this.masterName}`, { cause: lastError });
  }

  async primary(): Promise<RedisNode> {
    const address = await this.primaryAddress();
    const node = this.nodes.find((candidate) => candidate.address === address);
    if (!node) throw new HarnessError(`the sentinels name ${address}, which is not a node of this setup`);
    return node;
  }

  async replicas(): Promise<RedisNode[]> {
    const primary = await this.primary();
    return this.nodes.filter((node) => node !== primary && node.running);
  }

  masterOf(): Promise<RedisNode> {
    return this.primary();
  }

  async replicasOf(master: RedisNode): Promise<RedisNode[]> {
    return (await this.primary()) === master ? this.replicas() : [];
  }

  async resync(replica: RedisNode, options: ResyncOptions = {}): Promise<ResyncResult> {
    const primary = await this.primary();
    if (replica === primary || !this.nodes.includes(replica)) {
      throw new HarnessError(`${replica.address} is not a replica of the primary ${primary.address}`);
    }
    return resyncReplica(primary, replica, probeKey, options);
  }

  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    let problem = '';
    await waitFor(
      async () => {
        problem = (await this.unhealthy()) ?? '';
        return problem === '';
      },
      {
        timeoutMs: timeoutMs,
        intervalMs: 100,
        message: () => `sentinel setup not healthy after ${timeoutMs}ms: ${problem}`,
        ignoreErrors: true,
      },
    );
  }

  /** What is not yet healthy, or undefined. */
  private async unhealthy(): Promise<string | undefined> {
    const views = await Promise.all(
      this.liveSentinels().map(async (sentinel) => ({ sentinel, ...(await this.viewOf(sentinel)) })),
    );
    const named = new Set<string>();
    for (const { sentinel, master } of views) {
      named.add(`${master.get('ip')}:${master.get('port')}`);
      if (master.get('flags') !== 'master')
        return `sentinel ${sentinel.address} flags the primary ${master.get('flags')}`;
      const others = Number(master.get('num-other-sentinels'));
      if (others < this.sentinels.length - 1) {
        return `sentinel ${sentinel.address} knows ${others} other sentinels of ${this.sentinels.length - 1}`;
      }
    }
    if (named.size !== 1) return `the sentinels name different primaries: ${[...named].join(', ')}`;
    const primary = await this.primary();
    if (!primary.running || primary.paused) return `the named primary ${primary.address} is down`;
    const role = (await adminCall(primary.host, primary.port, ['ROLE'])) as unknown[];
    if (role[0] !== 'master') return `the named primary ${primary.address} is a ${String(role[0])}`;
    const replicas = this.nodes.filter((node) => node !== primary && node.running && !node.paused);
    // Known to the sentinels as replicas: a replica they do not know could not be promoted.
    for (const { sentinel, replicas: known } of views) {
      for (const replica of replicas) {
        const flags = known.find((entry) => entry.get('name') === replica.address)?.get('flags');
        if (flags !== 'slave') return `sentinel ${sentinel.address} sees ${replica.address} as ${flags ?? 'unknown'}`;
      }
    }
    if (replicas.length === 0) return undefined;
    const target = await probeWrite(primary, probeKey);
    for (const replica of replicas) {
      const info = parseInfo(await adminCall(replica.host, replica.port, ['INFO', 'replication']));
      if (info.get('role') !== 'slave' || info.get('master_port') !== String(primary.port)) {
        return `${replica.address} does not replicate from ${primary.address}`;
      }
      if (info.get('master_link_status') !== 'up') return `${replica.address}: link ${info.get('master_link_status')}`;
      const offset = Number(info.get('slave_repl_offset'));
      if (offset < target) return `replica ${replica.address} is at offset ${offset}, the primary at ${target}`;
    }
    return undefined;
  }

  /** Resolves with the node once the sentinels name a primary other than `old` that serves as one. */
  private async promotedAfter(old: RedisNode, started: number): Promise<FailoverResult> {
    let promoted: RedisNode | undefined;
    const timeoutMs = 30_000;
    await waitFor(
      async () => {
        for (const sentinel of this.liveSentinels()) {
          if ((await this.namedBy(sentinel)) === old.address) return false;
        }
        const candidate = await this.primary();
        const role = (await adminCall(candidate.host, candidate.port, ['ROLE'])) as unknown[];
        if (role[0] !== 'master') return false;
        promoted = candidate;
        return true;
      },
      {
        timeoutMs: timeoutMs,
        intervalMs: 25,
        message: () => `no replica of ${old.address} was promoted within ${timeoutMs}ms`,
        ignoreErrors: true,
      },
    );
    return { promoted: promoted as RedisNode, durationMs: Date.now() - started };
  }

  async failover(master?: RedisNode, options: FailoverOptions = {}): Promise<FailoverResult> {
    const { mode = 'kill', rejoin = true } = options;
    const old = await this.primary();
    if (master && master !== old) throw new HarnessError(`${master.address} is not the primary (${old.address} is)`);
    if (this.nodes.every((node) => node === old || !node.running)) {
      throw new HarnessError(`${old.address} has no running replica to promote`);
    }
    if (mode === 'manual') return this.plannedFailover(old);
    const started = Date.now();
    await old.kill();
    const result = await this.promotedAfter(old, started);
    if (rejoin) {
      // The old primary comes back empty (no persistence). Were it back while a sentinel still saw the
      // failover in progress, that sentinel could make the promoted node replicate from it and wipe what
      // was acknowledged: Redis's own warning about masters without persistence that restart at once.
      // So it comes back only once every sentinel has finished the failover and lists it as a replica.
      await this.failoverSettled(old);
      await old.restart();
      await this.waitHealthy();
    }
    return result;
  }

  /**
   * A switch as a careful operator makes it. `SENTINEL FAILOVER` alone is not
   * coordinated: it promotes a replica at once, and clients keep writing to
   * the old primary until they hear of the switch (up to a second), writes
   * the old primary then drops when it becomes a replica. So writes are held
   * on the old primary (`CLIENT PAUSE WRITE`, as Redis's own `FAILOVER`
   * does), the replicas catch up, the sentinels switch, the old primary is
   * made a replica of the new one, and only then released.
   */
  private async plannedFailover(old: RedisNode): Promise<FailoverResult> {
    const [sentinel] = this.liveSentinels();
    if (!sentinel) throw new HarnessError('no sentinel runs to ask for a failover');
    const started = Date.now();
    await adminCall(old.host, old.port, ['CLIENT', 'PAUSE', 60_000, 'WRITE']);
    let result: FailoverResult;
    try {
      const target = Number(
        parseInfo(await adminCall(old.host, old.port, ['INFO', 'replication'])).get('master_repl_offset'),
      );
      const replicas = this.nodes.filter((node) => node !== old && node.running && !node.paused);
      await waitFor(
        async () => {
          for (const replica of replicas) {
            const info = parseInfo(await adminCall(replica.host, replica.port, ['INFO', 'replication']));
            if (info.get('master_link_status') !== 'up' || Number(info.get('slave_repl_offset')) < target) return false;
          }
          return true;
        },
        {
          timeoutMs: 10_000,
          intervalMs: 10,
          message: () => `the replicas of ${old.address} did not catch up with offset ${target}`,
          ignoreErrors: true,
        },
      );
      await adminCall(sentinel.host, sentinel.port, ['SENTINEL', 'FAILOVER', this.masterName]);
      result = await this.promotedAfter(old, started);
      const promoted = result.promoted;
      // The sentinels would reconfigure it after their next INFO round (about 10 s, and not while it is
      // held): the operator does it as they do, with the clients' connections closed so that every client
      // (a blocked BZPOPMIN too) asks the sentinels again instead of waiting on a replica.
      await adminCall(old.host, old.port, ['REPLICAOF', promoted.host, promoted.port]);
      await adminCall(old.host, old.port, ['CLIENT', 'KILL', 'TYPE', 'normal']);
      await adminCall(old.host, old.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      await waitFor(
        async () => {
          const info = parseInfo(await adminCall(old.host, old.port, ['INFO', 'replication']));
          return info.get('role') === 'slave' && info.get('master_port') === String(promoted.port);
        },
        {
          timeoutMs: 30_000,
          intervalMs: 50,
          message: () => `${old.address} did not become a replica of ${promoted.address}`,
          ignoreErrors: true,
        },
      );
    } finally {
      await adminCall(old.host, old.port, ['CLIENT', 'UNPAUSE']).catch(() => {});
    }
    await this.waitHealthy();
    return result;
  }

  /** Resolves once every running sentinel has ended its failover and lists `old` among the replicas. */
  private async failoverSettled(old: RedisNode): Promise<void> {
    const timeoutMs = 30_000;
    await waitFor(
      async () => {
        for (const sentinel of this.liveSentinels()) {
          const { master, replicas } = await this.viewOf(sentinel);
          if (master.get('flags')?.includes('failover')) return false;
          if (!replicas.some((entry) => entry.get('name') === old.address)) return false;
        }
        return true;
      },
      {
        timeoutMs: timeoutMs,
        intervalMs: 50,
        message: () => `the sentinels did not finish the failover of ${old.address} within ${timeoutMs}ms`,
        ignoreErrors: true,
      },
    );
  }

  manualFailover(): Promise<FailoverResult> {
    return this.failover(undefined, { mode: 'manual' });
  }

  async stop(): Promise<void> {
    this.clients.closeAll();
    await Promise.all([...this.nodes, ...this.sentinels].map((node) => node.stop()));
  }
}

/**
 * Starts a primary with `replicas` replicas and `sentinels` sentinels
 * (`redis-server --sentinel`) on free loopback ports, and resolves once the
 * sentinels know every node and each other and the replicas have caught up.
 *
 * @example
 * ```ts
 * const setup = await startSentinel()
 * const redis = setup.client() // connect('redis+sentinel://…/redkit')
 * const { durationMs } = await setup.failover() // kill the primary
 * await setup.stop()
 * ```
 */
export async function startSentinel(options: SentinelOptions = {}): Promise<RedisSentinel> {
  const {
    replicas = 1,
    sentinels = 3,
    quorum = 2,
    downAfterMs = 1_000,
    failoverTimeoutMs = 5_000,
    masterName = 'redkit',
  } = options;
  if (!Number.isInteger(replicas) || replicas < 0) throw new HarnessError('replicas must be a whole number ≥ 0');
  if (!Number.isInteger(sentinels) || sentinels < 1) throw new HarnessError('sentinels must be a whole number ≥ 1');
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > sentinels) {
    throw new HarnessError(`quorum must be a whole number from 1 to sentinels (${sentinels})`);
  }
  if (!/^[A-Za-z0-9._-]+$/.test(masterName))
    throw new HarnessError('masterName may hold letters, digits, ".", "_" and "-"');
  const backend = await selectBackend(options.backend);
  const args = options.args ?? [];
  const started: RedisNode[] = [];
  const startAll = async (count: number, start: () => Promise<RedisNode>): Promise<RedisNode[]> => {
    const results = await Promise.allSettled(Array.from({ length: count }, start));
    const nodes = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    started.push(...nodes);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
    return nodes;
  };
  try {
    const [primary] = await startAll(1, () => backend.startNode({ args, cluster: false }));
    const { host, port } = primary as RedisNode;
    const replicaNodes = await startAll(replicas, () =>
      backend.startNode({ args: [...args, '--replicaof', host, String(port)], cluster: false }),
    );
    const monitor = [
      `sentinel monitor ${masterName} ${host} ${port} ${quorum}`,
      `sentinel down-after-milliseconds ${masterName} ${downAfterMs}`,
      `sentinel failover-timeout ${masterName} ${failoverTimeoutMs}`,
      `sentinel parallel-syncs ${masterName} 1`,
    ];
    const sentinelNodes = await startAll(sentinels, () =>
      backend.startNode({ args: [], cluster: false, sentinel: monitor }),
    );
    const setup = new HarnessSentinel(backend.name, masterName, [primary as RedisNode, ...replicaNodes], sentinelNodes);
    await setup.waitHealthy();
    return setup;
  } catch (error) {
    await Promise.all(started.map((node) => node.stop()));
    throw error;
  }
}
