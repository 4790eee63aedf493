import { Leaderboard, type RankStyle } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { ReferenceBoard, random } from './helpers.js';

/** Around `member` in a ranked list: 2r + 1 entries, shifted at the edges to keep that size. */
function window<T extends { member: string }>(ranked: T[], member: string, radius: number): T[] | null {
  const position = ranked.findIndex((entry) => entry.member === member);
  if (position < 0) return null;
  const size = 2 * radius + 1;
  const start = Math.max(0, Math.min(position - radius, ranked.length - size));
  return ranked.slice(start, start + size);
}

describeTopologies('rank styles against an in-memory reference', (t) => {
  let boards = 0;

  describe.each([
    { order: 'desc', ties: 'first', rankStyle: 'dense', seed: 1 },
    { order: 'asc', ties: 'last', rankStyle: 'dense', seed: 2 },
    { order: 'desc', ties: 'last', rankStyle: 'competition', seed: 3 },
    { order: 'asc', ties: 'first', rankStyle: 'ordinal', seed: 4 },
  ] as const)('$order, ties $ties, rankStyle $rankStyle', ({ order, ties, rankStyle, seed }) => {
    const styles: RankStyle[] =
      rankStyle === 'dense' ? ['ordinal', 'competition', 'dense'] : ['ordinal', 'competition'];

    it('every read matches the reference over random data with many ties', async () => {
      const lb = new Leaderboard({
        redis: t.redis,
        namespace: t.namespace,
        name: `r${boards++}`,
        order,
        ties,
        rankStyle,
      });
      const reference = new ReferenceBoard(order, ties);
      const next = random(seed);
      const members = Array.from({ length: 60 }, (_, i) => `m${i}`);
      const pick = () => members[Math.floor(next() * members.length)] as string;

      async function compare(label: string) {
        const count = await lb.count();
        expect(count, label).toBe(reference.size);
        for (const style of styles) {
          const ranked = reference.ranked(style);
          expect(await lb.top(1000, { rankStyle: style }), `${label} top ${style}`).toEqual(ranked);
          expect(await lb.page(2, 7, { rankStyle: style }), `${label} page ${style}`).toEqual(ranked.slice(14, 21));
          for (let probe = 0; probe < 5; probe++) {
            const member = pick();
            const expected = ranked.find((entry) => entry.member === member);
            expect(await lb.rank(member, { rankStyle: style }), `${label} rank ${member} ${style}`).toBe(
              expected?.rank ?? null,
            );
            expect(await lb.entry(member, { rankStyle: style }), `${label} entry ${member}`).toEqual(expected ?? null);
            const radius = Math.floor(next() * 4);
            expect(
              await lb.around(member, radius, { rankStyle: style }),
              `${label} around ${member} ±${radius} ${style}`,
            ).toEqual(window(ranked, member, radius));
          }
        }
        for (let probe = 0; probe < 5; probe++) {
          const member = pick();
          const expected = reference.percentile(member);
          const actual = await lb.percentile(member);
          if (expected === null) expect(actual).toBeNull();
          else expect(actual).toBeCloseTo(expected, 10);
        }
      }

      for (let step = 0; step < 400; step++) {
        const member = pick();
        const roll = next();
        if (roll < 0.05) {
          await lb.remove(member);
          reference.remove(member);
        } else {
          const policy = roll < 0.4 ? 'increment' : roll < 0.7 ? 'best' : 'replace';
          // Scores from a narrow range, so many members tie.
          const score = policy === 'increment' ? Math.floor(next() * 5) - 2 : Math.floor(next() * 8);
          const result = await lb.submit(member, score, { policy });
          reference.submit(member, score, policy);
          const expected = reference.ranked(rankStyle).find((entry) => entry.member === member);
          expect(result.score).toBe(expected?.score);
          expect(result.rank, `submit ${step} rank`).toBe(expected?.rank);
        }
        if (step % 100 === 99) await compare(`after ${step + 1} steps`);
      }

      // Trim to the best 20: the rest is gone and dense ranks are still right.
      const kept = reference.sorted().slice(0, 20);
      const removed = await lb.trim(20);
      expect(removed).toBe(reference.size - 20);
      for (const { member } of reference.sorted().slice(20)) reference.remove(member);
      expect(reference.sorted()).toEqual(kept);
      await compare('after trim');
    });
  });
});
