import { RedisUnavailableError } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import { type ReplicatedRedis, type StandaloneRedis, startReplicated, startStandalone } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

describe('Redis down (standalone)', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  it('calls fail with RedisUnavailableError within the timeout, and work again after a restart', async () => {
    const sessions = new SessionStore({ redis: server.client({ commandTimeout: 500 }), timeout: 300 });
    const { id } = await sessions.create('u1', { n: 1 });
    await server.node.kill();
    try {
      for (const call of [
        () => sessions.create('u1', { n: 2 }),
        () => sessions.get(id, { touch: true }),
        () => sessions.touch(id),
        () => sessions.update(id, { n: 3 }),
        () => sessions.rotate(id),
        () => sessions.destroy(id),
        () => sessions.list('u1'),
        () => sessions.destroyAll('u1'),
        () => sessions.put(id, { n: 4 }, { userId: 'u1' }),
      ]) {
        const started = performance.now();
        const error = await call().catch((e: unknown) => e);
        // A session store fails closed: an unreachable Redis is an error, never "no session".
        expect(error).toBeInstanceOf(RedisUnavailableError);
        // Bounded: the timeout plus scheduling slack on a busy machine, never a hang.
        expect(performance.now() - started).toBeLessThan(3_000);
      }
    } finally {
      await server.node.restart();
    }
    // The restarted server kept nothing (no persistence in the harness): new logins work again.
    let created: Awaited<ReturnType<typeof sessions.create>> | undefined;
    for (let attempt = 0; attempt < 50 && !created; attempt++) {
      created = await sessions.create('u2', { n: 1 }).catch(async () => {
        await sleep(100);
        return undefined;
      });
    }
    expect(created).toBeDefined();
    expect(await sessions.get(created?.id as string)).toMatchObject({ userId: 'u2', data: { n: 1 } });
  }, 60_000);
});

describe.each(['sentinel', 'cluster'] as const)(
  'a master failover in the middle of logins and updates (%s)',
  (kind) => {
    let deployment: ReplicatedRedis;
    beforeAll(async () => {
      deployment = await startReplicated(kind);
    });
    afterAll(() => deployment?.stop());

    it('every acknowledged session and update survives a planned failover; destroyAll still finds them all', async () => {
      const sessions = new SessionStore({ redis: deployment.client(), timeout: 1_000 });
      const acknowledged = new Map<string, number>();
      let running = true;
      const workers = Array.from({ length: 4 }, async (_, worker) => {
        let id: string | undefined;
        let n = 0;
        while (running) {
          try {
            if (!id || n % 10 === 0) {
              id = (await sessions.create(`user${worker}`, { n })).id;
            } else {
              const result = await sessions.update(id, { n });
              expect(result.status).toBe('updated');
            }
            acknowledged.set(id, n);
          } catch (error) {
            expect(error).toBeInstanceOf(RedisUnavailableError);
            // Refused or timed out: its outcome is unknown; leave this session and start another.
            if (id) acknowledged.delete(id);
            id = undefined;
            await sleep(20);
          }
          n++;
        }
      });
      await sleep(400);
      // Fail over the master that holds user0's index (and, by chance, some sessions).
      const master = await deployment.masterOf('session:{user0}:u');
      await deployment.failover(master, { mode: 'manual' });
      await sleep(600);
      running = false;
      await Promise.all(workers);
      expect(acknowledged.size).toBeGreaterThan(10);
      for (const [id, n] of acknowledged) {
        expect((await sessions.get(id))?.data, id).toEqual({ n });
      }
      // The user indexes survived too: destroyAll finds every acknowledged session.
      for (let worker = 0; worker < 4; worker++) await sessions.destroyAll(`user${worker}`);
      for (const id of acknowledged.keys()) expect(await sessions.get(id)).toBeNull();
    }, 120_000);
  },
);
