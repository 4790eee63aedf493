import { Leaderboard, type UpdatePolicy } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';

describeTopologies('deterministic ties', (t) => {
  let boards = 0;
  const board = (options: Partial<ConstructorParameters<typeof Leaderboard>[0]> = {}) =>
    new Leaderboard({ redis: t.redis, namespace: t.namespace, name: `t${boards++}`, ...options });

  // Member names deliberately sort against arrival order, so Redis's own tie order (by name) would fail.
  const arrivals = ['zoe', 'yan', 'xia', 'wes', 'vic', 'uma'];

  describe.each<[UpdatePolicy, 'asc' | 'desc']>([
    ['best', 'desc'],
    ['best', 'asc'],
    ['increment', 'desc'],
    ['increment', 'asc'],
    ['replace', 'desc'],
    ['replace', 'asc'],
  ])('%s, %s', (policy, order) => {
    it('members reaching the same score in a known order rank in that order (ties: first)', async () => {
      const lb = board({ policy, order });
      // Each member reaches 50 in turn; increments get there in two steps, others from a worse score.
      const worse = order === 'desc' ? 20 : 80;
      for (const member of arrivals) await lb.submit(member, policy === 'increment' ? 20 : worse);
      for (const member of arrivals) await lb.submit(member, policy === 'increment' ? 30 : 50);
      await lb.submit('top', order === 'desc' ? 99 : 1);
      const top = await lb.top(10);
      expect(top.map((entry) => entry.member)).toEqual(['top', ...arrivals]);
      expect(top.map((entry) => entry.score)).toEqual([order === 'desc' ? 99 : 1, ...arrivals.map(() => 50)]);
      expect(top.map((entry) => entry.rank)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(await lb.rank('wes')).toBe(5);
    });

    it('ties: last puts the latest arrival first', async () => {
      const lb = board({ policy, order, ties: 'last' });
      for (const member of [...arrivals].reverse()) await lb.submit(member, 50);
      expect((await lb.top(10)).map((entry) => entry.member)).toEqual(arrivals);
    });
  });

  it('a best submit that equals the stored score keeps the member’s place among equals', async () => {
    const lb = board({ policy: 'best' });
    await lb.submit('b', 10);
    await lb.submit('a', 10);
    await lb.submit('b', 10);
    expect((await lb.top(2)).map((entry) => entry.member)).toEqual(['b', 'a']);
  });

  it('leaving a score and coming back counts as a new arrival', async () => {
    const lb = board({ policy: 'replace' });
    await lb.submit('b', 10);
    await lb.submit('a', 10);
    await lb.submit('b', 11);
    await lb.submit('b', 10);
    expect((await lb.top(2)).map((entry) => entry.member)).toEqual(['a', 'b']);
  });

  describe('when a score’s tie values run out', () => {
    // maxScore 2^49 leaves 53 − 50 = 3 bits: 8 tie values per score.
    const small = { maxScore: 2 ** 49, maxCombinedPeriods: 1, policy: 'replace' as const };

    it.each(['first', 'last'] as const)(
      'the level is renumbered and arrival order is kept (ties: %s)',
      async (ties) => {
        const lb = board({ ...small, ties });
        expect(lb.precision.tiesPerScore).toBe(8);
        // Arrivals that leave again use up tie values; three stay.
        const order: string[] = [];
        for (let round = 0; round < 12; round++) {
          const member = `m${String(round).padStart(2, '0')}`;
          await lb.submit(member, 7);
          if (round % 4 === 3) order.push(member);
          else await lb.submit(member, 1);
        }
        const expected = ties === 'first' ? order : [...order].reverse();
        expect((await lb.top(3)).map((entry) => entry.member)).toEqual(expected);
        expect((await lb.top(3)).map((entry) => entry.score)).toEqual([7, 7, 7]);
      },
    );

    it('beyond half the tie values in use, arrivals share the last one and fall back to name order', async () => {
      const lb = board({ ...small, ties: 'first' });
      const members = ['h', 'g', 'f', 'e', 'd', 'c', 'b', 'a', 'z', 'y'];
      for (const member of members) await lb.submit(member, 7);
      const top = (await lb.top(10)).map((entry) => entry.member);
      // The first 8 in arrival order; the overflow (a, y, z) ties at the last value: Redis orders it by name, reversed.
      expect(top.slice(0, 7)).toEqual(['h', 'g', 'f', 'e', 'd', 'c', 'b']);
      expect(top.slice(7).sort()).toEqual(['a', 'y', 'z']);
      expect(top.slice(7)).toEqual(['z', 'y', 'a']);
      // Scores stay exact whatever the tie order.
      expect(new Set((await lb.top(10)).map((entry) => entry.score))).toEqual(new Set([7]));
    });
  });
});
