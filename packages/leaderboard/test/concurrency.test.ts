import { Leaderboard, type LeaderboardOptions } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { random } from './helpers.js';

describeTopologies('many clients at once', (t) => {
  const clients = 8;
  const leaderboards = (name: string, options: Partial<LeaderboardOptions> = {}) =>
    Array.from(
      { length: clients },
      () =>
        new Leaderboard({
          redis: t.client(),
          namespace: t.namespace,
          name,
          periods: ['all-time', 'daily'],
          ...options,
        }),
    );

  it('concurrent increments lose no update, on every board', async () => {
    const boards = leaderboards('increments', { policy: 'increment' });
    const perClient = 150;
    const members = ['a', 'b', 'c'];
    const expected = new Map(members.map((member) => [member, 0]));
    await Promise.all(
      boards.map(async (lb, client) => {
        const next = random(client + 1);
        for (let i = 0; i < perClient; i++) {
          const member = members[i % members.length] as string;
          const amount = 1 + Math.floor(next() * 9);
          expected.set(member, (expected.get(member) ?? 0) + amount);
          await lb.submit(member, amount);
        }
      }),
    );
    const reader = boards[0] as Leaderboard;
    for (const member of members) {
      expect(await reader.score(member)).toBe(expected.get(member));
      expect(await reader.score(member, { period: 'daily' })).toBe(expected.get(member));
    }
  });

  it('concurrent best submits never lower a score; each reply reflects the best so far', async () => {
    const boards = leaderboards('best', { policy: 'best' });
    const observed: number[][] = boards.map(() => []);
    let highest = 0;
    await Promise.all(
      boards.map(async (lb, client) => {
        const next = random(100 + client);
        for (let i = 0; i < 150; i++) {
          const score = Math.floor(next() * 1_000_000);
          highest = Math.max(highest, score);
          const result = await lb.submit('hero', score);
          // Never below what was submitted, and never below this client's earlier view.
          expect(result.score).toBeGreaterThanOrEqual(score);
          observed[client]?.push(result.score);
        }
      }),
    );
    for (const scores of observed) {
      for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThanOrEqual(scores[i - 1] as number);
    }
    expect(await (boards[0] as Leaderboard).score('hero')).toBe(highest);
    expect(await (boards[0] as Leaderboard).score('hero', { period: 'daily' })).toBe(highest);
  });

  it('concurrent arrivals at one score get distinct, consistent tie positions', async () => {
    const boards = leaderboards('arrivals', { policy: 'replace', periods: ['all-time'] });
    const ranks: number[] = [];
    await Promise.all(
      boards.map(async (lb, client) => {
        for (let i = 0; i < 25; i++) ranks.push((await lb.submit(`c${client}-${i}`, 100)).rank);
      }),
    );
    // Each arrival ranked behind everyone already there: the ranks returned are 1 … 200, once each.
    expect([...ranks].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const top = await (boards[0] as Leaderboard).top(200);
    expect(new Set(top.map((entry) => entry.member)).size).toBe(200);
  });
});
