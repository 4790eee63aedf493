import type { RedisConnection } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { keysOf } from './helpers.js';

describeTopologies('sessions under concurrency', (t) => {
  const clients = (count: number): RedisConnection[] => Array.from({ length: count }, () => t.client());

  it('concurrent partial updates of different fields from 4 clients all survive', async () => {
    const stores = clients(4).map((redis) => new SessionStore({ redis, namespace: t.namespace }));
    const { id } = await (stores[0] as SessionStore).create('ann', { base: true });
    // 200 writers, each setting its own field, spread over 4 connections.
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => (stores[i % 4] as SessionStore).update(id, { [`f${i}`]: i })),
    );
    const session = await (stores[1] as SessionStore).get(id);
    expect(session?.version).toBe(201);
    const expected: Record<string, unknown> = { base: true };
    for (let i = 0; i < 200; i++) expected[`f${i}`] = i;
    expect(session?.data).toEqual(expected);
  });

  it('versioned writers racing on one version: exactly one wins, every other one is told', async () => {
    const schema = z.object({ owner: z.string() });
    const stores = clients(4).map((redis) => new SessionStore({ redis, namespace: t.namespace, schema }));
    const { id, version } = await (stores[0] as SessionStore<typeof schema>).create('ben', { owner: 'none' });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (stores[i % 4] as SessionStore<typeof schema>).update(id, { owner: `w${i}` }, { version }),
      ),
    );
    const winners = results.flatMap((result, i) => (result.status === 'updated' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(results.filter((result) => result.status === 'conflict')).toHaveLength(99);
    expect((await (stores[0] as SessionStore<typeof schema>).get(id))?.data.owner).toBe(`w${winners[0]}`);
  });

  it('destroyAll racing with logins, rotations and late writes leaves no session it listed alive', async () => {
    const stores = clients(4).map((redis) => new SessionStore({ redis, namespace: t.namespace, ttl: 60_000 }));
    const at = (i: number) => stores[i % 4] as SessionStore;
    const existing = await Promise.all(Array.from({ length: 40 }, (_, i) => at(i).create('cat', { n: i })));
    let racing = true;
    const rotated: string[] = [];
    // While destroyAll runs, other requests rotate sessions and write to them (as in-flight requests would).
    const churn = Promise.all(
      existing.map(async ({ id }, i) => {
        let current: string | null = id;
        while (racing && current) {
          const next = await at(i).rotate(current);
          if (next) rotated.push(next.id);
          current = next?.id ?? null;
          if (current) await at(i + 1).put(current, { n: i, late: true }, { userId: 'cat' });
        }
      }),
    );
    const destroyed = await at(3).destroyAll('cat');
    racing = false;
    await churn;
    expect(destroyed).toBeGreaterThanOrEqual(1);
    // Every id ever handed out for those sessions is dead, and none can be written back.
    for (const id of [...existing.map((s) => s.id), ...rotated]) {
      expect(await at(0).get(id)).toBeNull();
      expect(await at(1).put(id, { n: -1 }, { userId: 'cat' })).toBe('destroyed');
    }
    expect(await at(2).list('cat')).toEqual([]);
    const live = (await keysOf(t.redis, t.namespace)).filter((key) => key.includes(':s:'));
    for (const key of live) expect(existing.map((s) => s.id).some((id) => key.includes(id.slice(0, 8)))).toBe(false);
  });

  it('200 concurrent creations from 4 clients are each listed exactly once', async () => {
    const stores = clients(4).map((redis) => new SessionStore({ redis, namespace: t.namespace }));
    const created = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (stores[i % 4] as SessionStore).create('dan', { i })),
    );
    const listed = await (stores[0] as SessionStore).list('dan');
    expect(listed.map((s) => s.id).sort()).toEqual(created.map((s) => s.id).sort());
    expect(await (stores[1] as SessionStore).destroyAll('dan')).toBe(200);
  });
});
