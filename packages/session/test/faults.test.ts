import { RedisUnavailableError } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import { type ReplicatedRedis, startReplicated } from '@redkit/testing';
import { redisDownContract } from '@redkit/testing/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

/** The session the calls made while Redis is down ask for. */
let id = '';

redisDownContract({
  build: (redis) => new SessionStore({ redis, timeout: 300 }),
  before: async (sessions) => {
    id = (await sessions.create('u1', { n: 1 })).id;
  },
  // A session store fails closed: an unreachable Redis is an error, never "no session".
  calls: (sessions) => [
    () => sessions.create('u1', { n: 2 }),
    () => sessions.get(id, { touch: true }),
    () => sessions.touch(id),
    () => sessions.update(id, { n: 3 }),
    () => sessions.rotate(id),
    () => sessions.destroy(id),
    () => sessions.list('u1'),
    () => sessions.destroyAll('u1'),
    () => sessions.put(id, { n: 4 }, { userId: 'u1' }),
  ],
  // The restarted server kept nothing (no persistence in the harness): new logins work again.
  recover: (sessions) => sessions.create('u2', { n: 1 }),
  verify: async (sessions, created) => {
    expect(created).toBeDefined();
    expect(await sessions.get(created.id)).toMatchObject({ userId: 'u2', data: { n: 1 } });
  },
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
