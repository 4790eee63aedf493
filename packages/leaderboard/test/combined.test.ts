import { InvalidOptionsError } from '@redkit/core';
import { Leaderboard, ScoreRangeError } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from './helpers.js';

const day = 86_400_000;

describeTopologies('combined boards', (t) => {
  let boards = 0;

  /** A leaderboard with daily boards and three days of scores; the clock is on the third day. */
  async function threeDays(options: Partial<ConstructorParameters<typeof Leaderboard>[0]> = {}) {
    const clock = new ManualClock(Date.now() - 2 * day);
    const name = `c${boards++}`;
    const lb = new Leaderboard({
      redis: t.redis,
      namespace: t.namespace,
      name,
      periods: ['daily', 'all-time'],
      clock: clock.now,
      ...options,
    });
    const first = clock.ms;
    const days: Record<string, number>[] = [
      { alice: 10, bob: 30, carol: 5 },
      { alice: 25, bob: 2 },
      { carol: 40, dave: 1, alice: 5 },
    ];
    for (const scores of days) {
      for (const [member, score] of Object.entries(scores)) await lb.submit(member, score);
      clock.ms += day;
    }
    clock.ms -= day;
    return { lb, clock, first, name };
  }

  it('sum adds each member’s period scores (the default for the increment policy)', async () => {
    const { lb, clock, first } = await threeDays({ policy: 'increment' });
    const range = lb.combine({ period: 'daily', from: first, to: clock.ms });
    expect(range.aggregate).toBe('sum');
    expect(range.spans).toHaveLength(3);
    expect(await range.top(10)).toEqual([
      { member: 'carol', score: 45, rank: 1 },
      { member: 'alice', score: 40, rank: 2 },
      { member: 'bob', score: 32, rank: 3 },
      { member: 'dave', score: 1, rank: 4 },
    ]);
    expect(await range.count()).toBe(4);
    expect(await range.score('alice')).toBe(40);
    expect(await range.rank('bob')).toBe(3);
    expect(await range.around('dave', 1)).toEqual([
      { member: 'alice', score: 40, rank: 2 },
      { member: 'bob', score: 32, rank: 3 },
      { member: 'dave', score: 1, rank: 4 },
    ]);
    expect(await range.percentile('carol')).toBeCloseTo(87.5, 10);
    // The last two days only.
    const recent = lb.combine({ period: 'daily', from: clock.ms - day, to: clock.ms });
    expect((await recent.top(10)).map((entry) => [entry.member, entry.score])).toEqual([
      ['carol', 40],
      ['alice', 30],
      ['bob', 2],
      ['dave', 1],
    ]);
  });

  it('best keeps each member’s best period (the default otherwise); ties keep the arrival order', async () => {
    const { lb, clock, first } = await threeDays({ policy: 'best' });
    const range = lb.combine({ period: 'daily', from: first, to: clock.ms });
    expect(range.aggregate).toBe('best');
    expect((await range.top(10)).map((entry) => [entry.member, entry.score])).toEqual([
      ['carol', 40],
      ['bob', 30],
      ['alice', 25],
      ['dave', 1],
    ]);
    const sum = lb.combine({ period: 'daily', from: first, to: clock.ms, aggregate: 'sum' });
    expect(await sum.score('alice')).toBe(40);
  });

  it('dense and competition ranks work on combined boards', async () => {
    const clock = new ManualClock(Date.now() - day);
    const lb = new Leaderboard({
      redis: t.redis,
      namespace: t.namespace,
      name: `c${boards++}`,
      periods: ['daily'],
      policy: 'increment',
      rankStyle: 'dense',
      clock: clock.now,
    });
    await lb.submit('a', 5);
    await lb.submit('b', 3);
    await lb.submit('c', 1);
    clock.ms += day;
    await lb.submit('b', 2);
    await lb.submit('d', 1);
    const both = lb.combine({ period: 'daily', from: clock.ms - day, to: clock.ms });
    // Equal totals: the tie values of the period scores add up, so b (first to its score on both days)
    // ranks before a (one day); c and d (first on one day each) share a tie value: Redis orders them by name.
    expect((await both.top(10)).map((entry) => [entry.member, entry.score, entry.rank])).toEqual([
      ['b', 5, 1],
      ['a', 5, 1],
      ['d', 1, 2],
      ['c', 1, 2],
    ]);
    expect((await both.top(10, { rankStyle: 'competition' })).map((entry) => entry.rank)).toEqual([1, 1, 3, 3]);
    expect(await both.rank('c', { rankStyle: 'ordinal' })).toBe(4);
  });

  it('is cached in a temporary key of the leaderboard’s hash tag for the cache duration', async () => {
    const { lb, clock, first, name } = await threeDays({ policy: 'increment' });
    const range = lb.combine({ period: 'daily', from: first, to: clock.ms, cache: '1h' });
    expect(range.key.startsWith(`${t.namespace}:{${name}}:u:d:`)).toBe(true);
    await range.top(1);
    const ttl = await t.redis.pttl(range.key);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    // A later submit shows only once the cache expires (or right away in an uncached combination).
    await lb.submit('dave', 100);
    expect(await range.score('dave')).toBe(1);
    await t.redis.del(range.key);
    expect(await range.score('dave')).toBe(101);
    // remove() reaches cached combinations too.
    expect(await lb.remove('dave')).toBe(3);
    expect(await range.score('dave')).toBeNull();
  });

  it('metadata comes with combined reads', async () => {
    const schema = z.object({ team: z.string() });
    const { lb, clock, first } = await threeDays({ metadata: schema, policy: 'increment' });
    await lb.submit('alice', 0, { metadata: { team: 'red' } });
    const range = lb.combine({ period: 'daily', from: first, to: clock.ms });
    expect(await range.entry('alice')).toEqual({ member: 'alice', score: 40, rank: 2, metadata: { team: 'red' } });
  });

  it('a sum beyond the precision budget is refused with ScoreRangeError, not rounded', async () => {
    const clock = new ManualClock(Date.now() - day);
    const lb = new Leaderboard({
      redis: t.redis,
      namespace: t.namespace,
      name: `c${boards++}`,
      periods: ['daily'],
      policy: 'increment',
      maxScore: 1000,
      clock: clock.now,
    });
    expect(lb.precision.maxCombinedScore).toBe(1023);
    await lb.submit('alice', 1000);
    clock.ms += day;
    await lb.submit('alice', 23);
    const exact = lb.combine({ period: 'daily', from: clock.ms - day, to: clock.ms });
    expect(await exact.score('alice')).toBe(1023);
    await lb.submit('alice', 1);
    await t.redis.del(exact.key);
    const error = await exact.top(1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScoreRangeError);
    expect(error).toMatchObject({ reason: 'combined', score: 1024 });
    expect(await t.redis.exists(exact.key)).toBe(0);
  });

  describe('bad ranges', () => {
    const lb = new Leaderboard({
      redis: t.redis,
      namespace: t.namespace,
      name: 'ranges',
      periods: ['daily', 'all-time'],
    });
    it.each<[string, () => unknown, string]>([
      [
        'a period the leaderboard does not keep',
        () => lb.combine({ period: 'weekly', from: 0, to: 1 }),
        'period: must be one of',
      ],
      [
        'the end before the start',
        () => lb.combine({ period: 'daily', from: day, to: 0 }),
        'to: must not be before from',
      ],
      [
        'a sum over more than maxCombinedPeriods',
        () => lb.combine({ period: 'daily', from: '2025-01-01', to: '2025-03-01', aggregate: 'sum' }),
        'to: a sum may span at most 32 periods',
      ],
      [
        'a day that does not exist',
        () => lb.combine({ period: 'daily', from: '2025-02-30', to: day }),
        'from: must be',
      ],
      [
        'all-time is not a period to combine',
        () => lb.combine({ period: 'all-time' as never, from: 0, to: 1 }),
        'period',
      ],
    ])('%s → InvalidOptionsError', (_case, call, message) => {
      expect(call).toThrow(InvalidOptionsError);
      expect(call).toThrow(message);
    });

    it('a best combination may span more periods', () => {
      expect(
        lb.combine({ period: 'daily', from: '2025-01-01', to: '2025-03-01', aggregate: 'best' }).spans,
      ).toHaveLength(60);
    });
  });
});
