import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type RedisCluster, type StandaloneRedis, startCluster, startStandalone } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, parseInfo } from '../src/admin.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
// Containers keep no directory on the host; their clean-up is tested in containers.test.ts.
const onDocker = process.env.REDKIT_TEST_BACKEND === 'docker';

async function answers(host: string, port: number): Promise<boolean> {
  try {
    return (await adminCall(host, port, ['PING'], 300)) === 'PONG';
  } catch {
    return false;
  }
}

function harnessDirs(port: number): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith(`redkit-redis-${port}-`));
}

describe('standalone server', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  it('serves commands through a core client', async () => {
    const redis = server.client();
    await redis.set('harness:a', '1');
    expect(await redis.get('harness:a')).toBe('1');
  });

  it('pause freezes the server and resume brings it back', async () => {
    const redis = server.client({ commandTimeout: 200 });
    expect(await redis.ping()).toBe('PONG');
    await server.node.pause();
    await expect(redis.ping()).rejects.toThrow(/timed out/i);
    await server.node.resume();
    expect(await redis.ping()).toBe('PONG');
  });

  it('kill takes it down and restart brings it back on the same port', async () => {
    await server.node.kill();
    expect(server.node.running).toBe(false);
    expect(await answers(server.host, server.port)).toBe(false);
    await server.node.restart();
    expect(await answers(server.host, server.port)).toBe(true);
  });

  it('stop kills the process and removes its directory', async () => {
    const other = await startStandalone();
    expect(harnessDirs(other.port)).toHaveLength(onDocker ? 0 : 1);
    await other.stop();
    expect(await answers(other.host, other.port)).toBe(false);
    expect(harnessDirs(other.port)).toHaveLength(0);
  });
});

describe('cluster of 3 masters and 3 replicas', () => {
  let cluster: RedisCluster;
  let startupMs = 0;
  beforeAll(async () => {
    const started = Date.now();
    cluster = await startCluster({ masters: 3, replicasPerMaster: 1 });
    startupMs = Date.now() - started;
  });
  afterAll(() => cluster?.stop());

  // Containers start slower than processes (vfs storage on CI); the bound says the harness never stalls.
  it(`comes up healthy with 6 nodes, 3 of them masters, in under ${onDocker ? 20 : 5} s`, async () => {
    console.log(`cluster (${cluster.backend} backend) up in ${startupMs} ms`);
    expect(cluster.nodes).toHaveLength(6);
    const topology = await cluster.topology();
    expect(topology.filter((node) => node.role === 'master')).toHaveLength(3);
    expect(topology.filter((node) => node.role === 'replica')).toHaveLength(3);
    const slots = topology.flatMap((node) => node.slots).reduce((sum, [from, to]) => sum + (to - from + 1), 0);
    expect(slots).toBe(16384);
    expect(startupMs).toBeLessThan(onDocker ? 20_000 : 5_000);
  });

  it('fails a master over within node timeout + 3 s and keeps serving its slots', async () => {
    const redis = cluster.client();
    const key = 'harness:{failover}:k';
    await redis.set(key, 'before');
    const master = await cluster.masterOf(key);
    const [replica] = await cluster.replicasOf(master);

    const { promoted, durationMs } = await cluster.failover(master);
    console.log(`cluster (${cluster.backend} backend) failed over in ${durationMs} ms`);

    expect(promoted).toBe(replica);
    expect(durationMs).toBeLessThanOrEqual(cluster.nodeTimeoutMs + 3_000);
    expect(await cluster.masterOf(key)).toBe(promoted);
    // The old master came back as a replica of the promoted one.
    expect(master.running).toBe(true);
    expect(await cluster.replicasOf(promoted)).toContain(master);
    await expect.poll(() => redis.set(key, 'after').catch(() => 'retry'), { timeout: 10_000 }).toBe('OK');
    expect(await redis.get(key)).toBe('after');
  });

  // The stall needs a replica restarted in milliseconds: containers restart too slowly to reach it.
  it.skipIf(onDocker)(
    'waitHealthy resolves only once a replica receives writes again, also right after a full resync that stalled',
    async () => {
      const redis = cluster.client();
      const key = 'harness:{resync}:k';
      await redis.set(key, 'before');
      const master = await cluster.masterOf(key);
      const [replica] = await cluster.replicasOf(master);
      if (!replica) throw new Error('the master has no replica');

      // The worst case: link up, but the master streams nothing to the replica yet.
      const { streaming, attempts } = await cluster.resync(replica, { stalled: true });
      expect(streaming).toBe(false);
      expect(attempts).toBeGreaterThanOrEqual(1);
      const link = parseInfo(await adminCall(replica.host, replica.port, ['INFO', 'replication']));
      expect(link.get('master_link_status')).toBe('up');

      await cluster.waitHealthy();

      // In sync means a write made now reaches the replica at once (WAIT routed with the key to its master).
      const replies = await redis.pipeline().set(key, 'after').wait(1, 200).exec();
      expect(replies?.[1]).toEqual([null, 1]);
    },
  );

  it('resync makes a full resync, not a partial one', async () => {
    const key = 'harness:{full}:k';
    const master = await cluster.masterOf(key);
    const [replica] = await cluster.replicasOf(master);
    if (!replica) throw new Error('the master has no replica');
    const fullSyncs = async () =>
      Number(parseInfo(await adminCall(master.host, master.port, ['INFO', 'stats'])).get('sync_full'));
    const before = await fullSyncs();
    await cluster.resync(replica);
    expect(await fullSyncs()).toBe(before + 1);
    await cluster.waitHealthy();
  });

  it('supports a manual failover without data loss', async () => {
    const redis = cluster.client();
    const key = 'harness:{manual}:k';
    await redis.set(key, 'kept');
    await redis.wait(1, 1_000);
    const master = await cluster.masterOf(key);
    const { promoted } = await cluster.failover(master, { mode: 'manual' });
    expect(await cluster.masterOf(key)).toBe(promoted);
    await expect.poll(() => redis.get(key).catch(() => 'retry'), { timeout: 10_000 }).toBe('kept');
  });
});

describe.skipIf(onDocker)('orphans', () => {
  it('a test process killed with SIGKILL leaves no redis-server and no directory behind', async () => {
    // A separate Node process starts a server through the built package, then is killed outright.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const { startStandalone } = await import('@redkit/testing');" +
          'const server = await startStandalone();' +
          'console.log(server.port); setInterval(() => {}, 1000);',
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    expect(await answers('127.0.0.1', port)).toBe(true);
    expect(harnessDirs(port)).toHaveLength(1);

    child.kill('SIGKILL');

    await expect.poll(() => answers('127.0.0.1', port), { timeout: 5_000 }).toBe(false);
    await expect.poll(() => harnessDirs(port).length, { timeout: 5_000 }).toBe(0);
    expect(existsSync(tmpdir())).toBe(true);
  });
});
