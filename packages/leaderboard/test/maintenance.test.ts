import { Leaderboard } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keysOf, ManualClock } from './helpers.js';

const day = 86_400_000;
const schema = z.object({ team: z.string() });

describeTopologies('maintenance', (t) => {
  let boards = 0;
  function periodic(options: Partial<ConstructorParameters<typeof Leaderboard>[0]> = {}) {
    const clock = new ManualClock(Date.now() - day);
    const name = `m${boards++}`;
    const lb = new Leaderboard({
      redis: t.redis,
      namespace: t.namespace,
      name,
      periods: ['all-time', 'daily'],
      rankStyle: 'dense',
      metadata: schema,
      policy: 'increment',
      clock: clock.now,
      ...options,
    });
    return { lb, clock, name };
  }

  describe('remove', () => {
    it('without options: from every board (past periods too) and its metadata', async () => {
      const { lb, clock } = periodic();
      await lb.submit('alice', 5, { metadata: { team: 'red' } });
      await lb.submit('bob', 5);
      clock.ms += day;
      await lb.submit('alice', 7);
      expect(await lb.remove('alice')).toBe(3);
      expect(await lb.score('alice')).toBeNull();
      expect(await lb.score('alice', { period: 'daily' })).toBeNull();
      expect(await lb.score('alice', { period: 'daily', at: clock.ms - day })).toBeNull();
      expect(await t.redis.hget(`${t.namespace}:{${lb.name}}:meta`, 'alice')).toBeNull();
      // The distinct-score index follows: bob is alone again at dense rank 1.
      expect(await lb.top(10, { period: 'daily', at: clock.ms - day })).toEqual([
        { member: 'bob', score: 5, rank: 1, metadata: undefined },
      ]);
      expect(await lb.remove('alice')).toBe(0);
    });

    it('with a board: from that board only, metadata kept', async () => {
      const { lb } = periodic();
      await lb.submit('alice', 5, { metadata: { team: 'red' } });
      expect(await lb.remove('alice', { period: 'daily' })).toBe(1);
      expect(await lb.score('alice', { period: 'daily' })).toBeNull();
      expect(await lb.entry('alice')).toEqual({ member: 'alice', score: 5, rank: 1, metadata: { team: 'red' } });
    });
  });

  describe('trim', () => {
    it('keeps the best N of a board and updates dense ranks', async () => {
      const { lb } = periodic({ policy: 'replace' });
      for (let i = 0; i < 10; i++) await lb.submit(`m${i}`, i % 4);
      expect(await lb.trim(3, { period: 'all-time' })).toBe(7);
      expect(
        (await lb.top(10, { period: 'all-time' })).map((entry) => [entry.member, entry.score, entry.rank]),
      ).toEqual([
        ['m3', 3, 1],
        ['m7', 3, 1],
        ['m2', 2, 2],
      ]);
      // Other boards are untouched.
      expect(await lb.count({ period: 'daily' })).toBe(10);
      expect(await lb.trim(5, { period: 'all-time' })).toBe(0);
      expect(await lb.trim(0, { period: 'all-time' })).toBe(3);
      expect(await lb.count({ period: 'all-time' })).toBe(0);
    });

    it('on an all-time-only leaderboard, the metadata of removed members goes too', async () => {
      const lb = new Leaderboard({ redis: t.redis, namespace: t.namespace, name: `m${boards++}`, metadata: schema });
      for (let i = 0; i < 5; i++) await lb.submit(`m${i}`, i, { metadata: { team: `t${i}` } });
      await lb.trim(2);
      expect((await t.redis.hkeys(`${t.namespace}:{${lb.name}}:meta`)).sort()).toEqual(['m3', 'm4']);
    });
  });

  describe('export', () => {
    it('streams every member of a board once, with scores and metadata, in batches', async () => {
      const lb = new Leaderboard({
        redis: t.redis,
        namespace: t.namespace,
        name: `m${boards++}`,
        metadata: schema,
        order: 'asc',
        decimals: 1,
      });
      const expected = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        const score = (i % 17) / 10;
        await lb.submit(`m${i}`, score, i % 3 === 0 ? { metadata: { team: `t${i}` } } : undefined);
        expected.set(`m${i}`, score);
      }
      const seen = new Map<string, { score: number; metadata?: unknown }>();
      for await (const entry of lb.export({ batch: 50 })) {
        expect(seen.has(entry.member)).toBe(false);
        seen.set(entry.member, entry);
      }
      expect(seen.size).toBe(300);
      for (const [member, score] of expected) expect(seen.get(member)?.score).toBe(score);
      expect(seen.get('m3')?.metadata).toEqual({ team: 't3' });
      expect(seen.get('m4')?.metadata).toBeUndefined();
      const plain = [];
      for await (const entry of lb.export({ metadata: false })) plain.push(entry);
      expect(plain).toHaveLength(300);
      expect(plain.every((entry) => !('metadata' in entry))).toBe(true);
    });

    it('an empty board exports nothing', async () => {
      const lb = new Leaderboard({ redis: t.redis, namespace: t.namespace, name: `m${boards++}` });
      const entries = [];
      for await (const entry of lb.export()) entries.push(entry);
      expect(entries).toEqual([]);
    });
  });

  describe('reset', () => {
    it('without options: deletes every key of the leaderboard, and only its keys', async () => {
      const { lb, clock, name } = periodic();
      const neighbour = new Leaderboard({ redis: t.redis, namespace: t.namespace, name: `${name}-neighbour` });
      await neighbour.submit('x', 1);
      await lb.submit('alice', 5, { metadata: { team: 'red' } });
      clock.ms += day;
      await lb.submit('bob', 5);
      await lb.combine({ period: 'daily', from: clock.ms - day, to: clock.ms }).top(5);
      expect((await keysOf(t.redis, `${t.namespace}:{${name}}`)).length).toBeGreaterThan(5);
      await lb.reset();
      expect(await keysOf(t.redis, `${t.namespace}:{${name}}`)).toEqual([]);
      expect(await neighbour.count()).toBe(1);
      // Usable again afterwards, with another encoding even.
      const other = new Leaderboard({ redis: t.redis, namespace: t.namespace, name, order: 'asc' });
      expect(await other.submit('carol', 3)).toMatchObject({ rank: 1 });
    });

    it('with a board: only that board', async () => {
      const { lb } = periodic();
      await lb.submit('alice', 5);
      await lb.reset({ period: 'daily' });
      expect(await lb.count({ period: 'daily' })).toBe(0);
      expect(await lb.count({ period: 'all-time' })).toBe(1);
    });
  });
});
