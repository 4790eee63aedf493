import { existsSync } from 'node:fs';
import { type RedisSentinel, sleep, startSentinel } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCall, parseInfo } from '../src/admin.js';

const onDocker = process.env.REDKIT_TEST_BACKEND === 'docker';

async function role(address: { host: string; port: number }): Promise<string> {
  return ((await adminCall(address.host, address.port, ['ROLE'])) as string[])[0] as string;
}

describe('sentinel: a primary, a replica and 3 sentinels', () => {
  let setup: RedisSentinel;
  beforeAll(async () => {
    const started = Date.now();
    setup = await startSentinel();
    console.log(`sentinel setup up in ${Date.now() - started} ms`);
  }, 60_000);
  afterAll(() => setup?.stop());

  it(`comes up healthy: 2 data nodes, 3 sentinels that know each other, the replica caught up`, async () => {
    expect(setup.nodes).toHaveLength(2);
    expect(setup.sentinels).toHaveLength(3);
    expect(setup.url).toBe(`redis+sentinel://${setup.sentinels.map((node) => node.address).join(',')}/redkit`);
    const primary = await setup.primary();
    expect(primary).toBe(setup.nodes[0]);
    expect(await role(primary)).toBe('master');
    const [replica] = await setup.replicas();
    expect(await role(replica as RedisSentinel['nodes'][number])).toBe('slave');
    for (const sentinel of setup.sentinels) {
      const fields = (await adminCall(sentinel.host, sentinel.port, ['SENTINEL', 'master', 'redkit'])) as string[];
      expect(fields[fields.indexOf('num-other-sentinels') + 1]).toBe('2');
      expect(fields[fields.indexOf('num-slaves') + 1]).toBe('1');
    }
  });

  it('a killed primary is replaced: acknowledged writes survive, the client follows, the old primary rejoins as a replica', async () => {
    const redis = setup.client({ commandTimeout: 1_000 });
    for (let i = 0; i < 50; i++) await redis.set(`sentinel:kill:${i}`, String(i));
    expect(await redis.wait(1, 1_000)).toBe(1); // on the replica too: these survive the crash
    const old = await setup.primary();
    const killedAt = Date.now();
    const { promoted, durationMs } = await setup.failover(old, { rejoin: false });
    expect(promoted).not.toBe(old);
    expect(await role(promoted)).toBe('master');
    // The client asks the sentinels again and writes to the new primary.
    let clientBackMs = -1;
    for (;;) {
      try {
        await redis.set('sentinel:kill:after', '1');
        clientBackMs = Date.now() - killedAt;
        break;
      } catch {
        if (Date.now() - killedAt > 30_000) throw new Error('the client never reached the new primary');
      }
    }
    console.log(
      `sentinel failover: promoted in ${durationMs} ms; the client wrote again ${clientBackMs} ms after the kill`,
    );
    expect(durationMs).toBeLessThan(15_000);
    for (let i = 0; i < 50; i++) expect(await redis.get(`sentinel:kill:${i}`)).toBe(String(i));

    // Restarted, the old primary comes back as a master of its own; the sentinels turn it into a replica.
    await old.restart();
    await setup.waitHealthy();
    expect(await role(old)).toBe('slave');
    expect(await adminCall(old.host, old.port, ['GET', 'sentinel:kill:after'])).toBe('1');
  }, 90_000);

  it('manualFailover switches to the replica and the old primary follows it, with nothing lost', async () => {
    const redis = setup.client();
    await redis.set('sentinel:manual', 'before');
    expect(await redis.wait(1, 1_000)).toBe(1);
    const old = await setup.primary();
    const { promoted, durationMs } = await setup.manualFailover();
    console.log(`sentinel manual failover: promoted in ${durationMs} ms`);
    expect(promoted).not.toBe(old);
    expect(await setup.primary()).toBe(promoted);
    expect(await role(old)).toBe('slave');
    expect(await redis.get('sentinel:manual')).toBe('before');
    const info = parseInfo(await adminCall(old.host, old.port, ['INFO', 'replication']));
    expect(info.get('master_port')).toBe(String(promoted.port));
  }, 90_000);

  it('a paused primary (a hung host) is failed over once it is down for down-after-milliseconds', async () => {
    const old = await setup.primary();
    await old.pause();
    try {
      let promoted: RedisSentinel['nodes'][number] | undefined;
      const deadline = Date.now() + 20_000;
      while (!promoted && Date.now() < deadline) {
        const named = await setup.primary().catch(() => old);
        if (named !== old) promoted = named;
        else await sleep(100);
      }
      expect(promoted).toBeDefined();
    } finally {
      await old.resume();
    }
    await setup.waitHealthy();
    expect(await role(old)).toBe('slave');
  }, 90_000);

  it.skipIf(onDocker)(
    'stop removes every process and directory',
    async () => {
      const other = await startSentinel({ sentinels: 1, quorum: 1 });
      const dirs = [...other.nodes, ...other.sentinels].map((node) => (node as unknown as { dir: string }).dir);
      expect(dirs.every((dir) => existsSync(dir))).toBe(true);
      await other.stop();
      expect(dirs.some((dir) => existsSync(dir))).toBe(false);
      for (const node of [...other.nodes, ...other.sentinels]) {
        await expect(adminCall(node.host, node.port, ['PING'], 300)).rejects.toThrow();
      }
    },
    60_000,
  );

  it('rejects bad options with a clear error, before starting anything', async () => {
    await expect(startSentinel({ quorum: 4 })).rejects.toThrow(
      /quorum must be a whole number from 1 to sentinels \(3\)/,
    );
    await expect(startSentinel({ replicas: -1 })).rejects.toThrow(/replicas must be a whole number/);
    await expect(startSentinel({ masterName: 'a b' })).rejects.toThrow(/masterName may hold/);
  });
});
