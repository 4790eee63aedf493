import type { RedisConnection } from '@redkit/core';
import { adminCall, parseInfo } from './admin.js';
import type { BackendName } from './backend.js';
import { HarnessError } from './errors.js';
import type { RedisNode } from './node.js';
import type { ClientOptions } from './standalone.js';
import { sleep, waitFor } from './wait.js';

export interface FailoverOptions {
  /**
   * `kill`: SIGKILL the master and wait for its replica's promotion (what a
   * crash does). `manual`: a planned switch (`CLUSTER FAILOVER` on its
   * replica; on Sentinel, `SENTINEL FAILOVER`). @default "kill"
   */
  mode?: 'kill' | 'manual';
  /** After a kill, restart the old master so it rejoins as a replica. @default true */
  rejoin?: boolean;
}

export interface ResyncOptions {
  /**
   * Repeat the resync until it leaves the replica in the state a Redis 7.0
   * diskless full sync sometimes does: link up, but its master streams
   * nothing to it until the replica's next acknowledgement, up to about 1 s
   * later (see {@link ResyncResult.streaming}). Writes made in that window
   * exist on the master only: the worst case for a failover test.
   * @default false
   */
  stalled?: boolean;
}

export interface ResyncResult {
  /** From the first fault to the replica's link being up again (the last attempt). */
  readonly durationMs: number;
  /** Full resyncs made (more than one only with `stalled`). */
  readonly attempts: number;
  /**
   * Whether a write made on the master right after the link came up reached
   * the replica within 200 ms. `false`: the master has not yet
   * started streaming to it (it waits for the replica's first acknowledgement
   * after the transfer, and missed it).
   */
  readonly streaming: boolean;
}

/** How long `resync` waits for a probe write to reach the replica before calling it stalled. */
const streamProbeMs = 200;

export interface FailoverResult {
  /** The replica that is now master. */
  readonly promoted: RedisNode;
  /** From the fault to the promoted replica serving (`cluster_state:ok`; on Sentinel, named by every sentinel). */
  readonly durationMs: number;
}

/**
 * What a Sentinel setup and a cluster have in common: masters with replicas
 * that can be failed over. A fault test written against this runs on both
 * (see {@link startReplicated}).
 */
export interface ReplicatedRedis {
  /** Which of the two this is. */
  readonly kind: 'sentinel' | 'cluster';
  readonly backend: BackendName;
  /** What @redkit/core's `connect()` takes. */
  readonly url: string;
  /** Every data node, masters and replicas, in start order (not the sentinels). */
  readonly nodes: readonly RedisNode[];
  /** A client made with `connect()`; closed by `stop()`. */
  client(options?: ClientOptions): RedisConnection;
  /** The master currently serving `key` (on Sentinel, the primary). */
  masterOf(key: string): Promise<RedisNode>;
  replicasOf(master: RedisNode): Promise<RedisNode[]>;
  /** Stops a master and resolves once a replica has taken over (see {@link FailoverOptions}). */
  failover(master: RedisNode, options?: FailoverOptions): Promise<FailoverResult>;
  /**
   * Puts `replica` through a full resynchronization with its master (its
   * master's backlog is made too short to serve it a partial one, and it is
   * restarted) and resolves once its link is up again, without waiting for it
   * to catch up: right after, its offset may trail its master's.
   */
  resync(replica: RedisNode, options?: ResyncOptions): Promise<ResyncResult>;
  /** Resolves when every node serves and every replica has caught up with its master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Makes one write on `master` that leaves no data behind (a script that sets
 * and deletes `key`, replicated as one transaction) and returns the master's
 * replication offset after it.
 */
export async function probeWrite(master: RedisNode, key: string): Promise<number> {
  await adminCall(master.host, master.port, [
    'EVAL',
    "redis.call('SET', KEYS[1], '1') redis.call('DEL', KEYS[1])",
    1,
    key,
  ]);
  const info = parseInfo(await adminCall(master.host, master.port, ['INFO', 'replication']));
  return Number(info.get('master_repl_offset'));
}

/** The replication offset a replica has processed (-1 while it is not linked). */
export async function replicaOffset(replica: RedisNode): Promise<number> {
  const info = parseInfo(await adminCall(replica.host, replica.port, ['INFO', 'replication']));
  if (info.get('master_link_status') !== 'up') return -1;
  return Number(info.get('slave_repl_offset'));
}

/** Whether a probe write on `master` reaches `replica` within {@link streamProbeMs}. */
async function receivesWrites(master: RedisNode, replica: RedisNode, key: string): Promise<boolean> {
  const target = await probeWrite(master, key);
  const deadline = Date.now() + streamProbeMs;
  for (;;) {
    if ((await replicaOffset(replica)) >= target) return true;
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
}

/**
 * Forces a full resync of `replica`: while it is down, the master's backlog
 * is shrunk to its minimum and more than that is written (a probe key, then
 * deleted), so the offset the replica asks to continue from is gone; then it
 * is restarted. Resolves once its link is up and no sync is in progress.
 */
async function forceFullSync(master: RedisNode, replica: RedisNode, key: string): Promise<void> {
  const call = (args: (string | number)[]) => adminCall(master.host, master.port, args);
  const [, backlogSize] = (await call(['CONFIG', 'GET', 'repl-backlog-size'])) as [string, string];
  await call(['CONFIG', 'SET', 'repl-backlog-size', String(16 * 1024)]);
  try {
    await replica.kill();
    // Redis keeps at least one 16 KB block beyond the backlog size; 4 × 64 KB leaves no doubt.
    const filler = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 4; i++) await call(['SET', key, filler]);
    await call(['DEL', key]);
  } finally {
    await call(['CONFIG', 'SET', 'repl-backlog-size', backlogSize]);
  }
  await replica.restart();
  const timeoutMs = 10_000;
  await waitFor(
    async () => {
      const info = parseInfo(await adminCall(replica.host, replica.port, ['INFO', 'replication']));
      return info.get('master_link_status') === 'up' && info.get('master_sync_in_progress') === '0';
    },
    {
      timeoutMs: timeoutMs,
      intervalMs: 5,
      message: () =>
        `${replica.address} did not link up with ${master.address} within ${timeoutMs}ms after a full resync`,
      ignoreErrors: true,
    },
  );
}

/** Forces full resyncs of `replica` until `options` are met (see {@link ResyncOptions}). */
export async function resyncReplica(
  master: RedisNode,
  replica: RedisNode,
  probeKey: string,
  options: ResyncOptions = {},
): Promise<ResyncResult> {
  const { stalled = false } = options;
  // About a third of diskless full syncs stall on Redis 7.0; 20 tries all fail to stall once in ~1,000 calls.
  const maxAttempts = stalled ? 20 : 1;
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    await forceFullSync(master, replica, probeKey);
    const durationMs = Date.now() - started;
    const streaming = await receivesWrites(master, replica, probeKey);
    if (!stalled || !streaming) return { durationMs, attempts: attempt, streaming };
    if (attempt >= maxAttempts) {
      throw new HarnessError(`${replica.address} kept streaming after ${attempt} full resyncs; it never stalled`);
    }
  }
}
