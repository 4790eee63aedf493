import { Leaderboard } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describeTopologies('submit', (t) => {
  let boards = 0;
  const board = (options: Partial<ConstructorParameters<typeof Leaderboard>[0]> = {}) =>
    new Leaderboard({ redis: t.redis, namespace: t.namespace, name: `b${boards++}`, ...options });

  describe('update policies return the new score and rank', () => {
    it('best keeps the higher score (desc) and reports whether it changed', async () => {
      const lb = board({ policy: 'best' });
      expect(await lb.submit('alice', 100)).toMatchObject({
        member: 'alice',
        score: 100,
        previous: null,
        rank: 1,
        changed: true,
      });
      expect(await lb.submit('bob', 150)).toMatchObject({ score: 150, rank: 1, changed: true });
      expect(await lb.submit('alice', 90)).toMatchObject({ score: 100, previous: 100, rank: 2, changed: false });
      expect(await lb.submit('alice', 200)).toMatchObject({ score: 200, previous: 100, rank: 1, changed: true });
      expect(await lb.score('alice')).toBe(200);
    });

    it('best keeps the lower score on an ascending board (lap times)', async () => {
      const lb = board({ policy: 'best', order: 'asc' });
      await lb.submit('alice', 61_250);
      expect(await lb.submit('bob', 59_900)).toMatchObject({ score: 59_900, rank: 1 });
      expect(await lb.submit('alice', 62_000)).toMatchObject({ score: 61_250, changed: false, rank: 2 });
      expect(await lb.submit('alice', 58_000)).toMatchObject({ score: 58_000, previous: 61_250, rank: 1 });
      expect((await lb.top(2)).map((e) => [e.member, e.score])).toEqual([
        ['alice', 58_000],
        ['bob', 59_900],
      ]);
    });

    it('increment adds (negative increments too) and starts from 0', async () => {
      const lb = board({ policy: 'increment' });
      expect(await lb.submit('alice', 5)).toMatchObject({ score: 5, previous: null });
      expect(await lb.submit('alice', 7)).toMatchObject({ score: 12, previous: 5 });
      expect(await lb.submit('alice', -20)).toMatchObject({ score: -8, previous: 12 });
      expect(await lb.submit('bob', 0)).toMatchObject({ score: 0, rank: 1, changed: true });
      expect(await lb.rank('alice')).toBe(2);
    });

    it('increment on an ascending board adds to the score (lower still ranks first)', async () => {
      const lb = board({ policy: 'increment', order: 'asc' });
      await lb.submit('alice', 10);
      await lb.submit('bob', 3);
      expect(await lb.submit('bob', 10)).toMatchObject({ score: 13, rank: 2 });
      expect(await lb.top(2)).toEqual([
        { member: 'alice', score: 10, rank: 1 },
        { member: 'bob', score: 13, rank: 2 },
      ]);
    });

    it('replace overwrites, even with a worse score', async () => {
      const lb = board({ policy: 'replace' });
      await lb.submit('alice', 100);
      expect(await lb.submit('alice', 40)).toMatchObject({ score: 40, previous: 100, changed: true });
      expect(await lb.submit('alice', 40)).toMatchObject({ score: 40, previous: 40, changed: false });
    });

    it('the policy can be chosen per call', async () => {
      const lb = board({ policy: 'best' });
      await lb.submit('alice', 100);
      expect(await lb.submit('alice', 5, { policy: 'increment' })).toMatchObject({ score: 105 });
      expect(await lb.submit('alice', 1, { policy: 'replace' })).toMatchObject({ score: 1 });
    });

    it('reports the rank in the leaderboard’s rank style', async () => {
      const lb = board({ policy: 'replace', rankStyle: 'competition' });
      await lb.submit('a', 10);
      await lb.submit('b', 10);
      expect(await lb.submit('c', 5)).toMatchObject({ rank: 3 });
      const dense = board({ policy: 'replace', rankStyle: 'dense' });
      await dense.submit('a', 10);
      await dense.submit('b', 10);
      expect(await dense.submit('c', 5)).toMatchObject({ rank: 2 });
    });
  });

  it('decimals: fractional scores are kept exactly at the configured precision', async () => {
    const lb = board({ policy: 'increment', decimals: 2 });
    await lb.submit('alice', 0.1);
    expect(await lb.submit('alice', 0.2)).toMatchObject({ score: 0.3 });
    expect(await lb.submit('bob', 12.34)).toMatchObject({ score: 12.34, rank: 1 });
    expect(await lb.score('alice')).toBe(0.3);
  });

  it('members are arbitrary strings, kept apart from other leaderboards by the hash tag', async () => {
    const a = board({ name: 'x}:{y' });
    const b = board({ name: 'x' });
    await a.submit('user:{1}\n', 5);
    await b.submit('user:{1}\n', 7);
    expect(await a.top(10)).toEqual([{ member: 'user:{1}\n', score: 5, rank: 1 }]);
    expect(await b.score('user:{1}\n')).toBe(7);
  });

  describe('metadata', () => {
    const schema = z.object({ displayName: z.string(), level: z.number().int() });

    it('is validated, stored beside the board and returned with reads in the same call', async () => {
      const lb = board({ metadata: schema });
      await lb.submit('alice', 10, { metadata: { displayName: 'Alice', level: 3 } });
      await lb.submit('bob', 20);
      expect(await lb.top(10)).toEqual([
        { member: 'bob', score: 20, rank: 1, metadata: undefined },
        { member: 'alice', score: 10, rank: 2, metadata: { displayName: 'Alice', level: 3 } },
      ]);
      expect(await lb.entry('alice')).toEqual({
        member: 'alice',
        score: 10,
        rank: 2,
        metadata: { displayName: 'Alice', level: 3 },
      });
      expect(await lb.around('alice', 1, { metadata: false })).toEqual([
        { member: 'bob', score: 20, rank: 1 },
        { member: 'alice', score: 10, rank: 2 },
      ]);
      // A later submit without metadata keeps it; with metadata replaces it.
      await lb.submit('alice', 30);
      expect((await lb.entry('alice'))?.metadata).toEqual({ displayName: 'Alice', level: 3 });
      await lb.submit('alice', 30, { metadata: { displayName: 'Al', level: 4 } });
      expect((await lb.entry('alice'))?.metadata).toEqual({ displayName: 'Al', level: 4 });
    });

    it('that no longer matches the schema is left out and reported', async () => {
      const lb = board({ metadata: schema, name: 'meta-drift' });
      await lb.submit('alice', 10, { metadata: { displayName: 'Alice', level: 3 } });
      const stricter = new Leaderboard({
        redis: t.redis,
        namespace: t.namespace,
        name: 'meta-drift',
        metadata: schema.extend({ country: z.string() }),
      });
      const reported: string[] = [];
      stricter.events.on('metadata-invalid', ({ member }) => reported.push(member));
      expect(await stricter.top(1)).toEqual([{ member: 'alice', score: 10, rank: 1, metadata: undefined }]);
      expect(reported).toEqual(['alice']);
    });
  });

  it('emits a submitted event with the primary board’s outcome', async () => {
    const lb = board();
    const seen: unknown[] = [];
    lb.events.on('submitted', (event) => seen.push(event));
    await lb.submit('alice', 3);
    expect(seen).toEqual([{ member: 'alice', score: 3, rank: 1, changed: true, durationMs: expect.any(Number) }]);
  });
});
