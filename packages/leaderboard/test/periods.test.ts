import { Leaderboard } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { spanAt } from '../src/periods.js';
import { ManualClock } from './helpers.js';

const day = 86_400_000;

describeTopologies('periodic boards', (t) => {
  let boards = 0;
  const keyOf = (name: string, part: string) => `${t.namespace}:{${name}}:${part}`;

  /**
   * Clocks start near the real time: period boards expire on the server's
   * clock, `retention` after their period ends, so a clock far in the past
   * would write boards that are already gone.
   */
  function leaderboard(options: Partial<ConstructorParameters<typeof Leaderboard>[0]>) {
    const clock = new ManualClock(Date.now());
    const name = `p${boards++}`;
    const lb = new Leaderboard({ redis: t.redis, namespace: t.namespace, name, clock: clock.now, ...options });
    return { lb, clock, name };
  }

  it.each([
    ['daily', 'Europe/Paris', 1],
    ['daily', 'America/New_York', 1],
    ['weekly', 'Asia/Tokyo', 1],
    ['weekly', 'UTC', 0],
    ['monthly', 'Pacific/Auckland', 1],
  ] as const)(
    '%s boards roll over at the boundary of %s (weeks from day %i); all-time keeps counting',
    async (period, timeZone, weekStartsOn) => {
      const { lb, clock, name } = leaderboard({
        periods: [period, 'all-time'],
        policy: 'increment',
        timeZone,
        weekStartsOn,
      });
      // The next boundary after now, in that time zone.
      const current = spanAt(period, clock.ms, { timeZone, weekStartsOn });
      const next = spanAt(period, current.end, { timeZone, weekStartsOn });

      clock.ms = current.end - 1;
      expect(await lb.submit('alice', 10)).toMatchObject({
        score: 10,
        periods: { [period]: { score: 10 }, 'all-time': { score: 10 } },
      });
      await lb.submit('bob', 5);
      clock.ms = current.end;
      // A new period: its board starts empty, the all-time board goes on.
      expect(await lb.submit('alice', 1)).toMatchObject({
        score: 1,
        previous: null,
        rank: 1,
        periods: { [period]: { score: 1 }, 'all-time': { score: 11, previous: 10 } },
      });
      expect(await lb.count()).toBe(1);
      expect(await lb.count({ period: 'all-time' })).toBe(2);
      expect(await lb.top(10, { at: current.start })).toEqual([
        { member: 'alice', score: 10, rank: 1 },
        { member: 'bob', score: 5, rank: 2 },
      ]);
      const letter = period[0] as string;
      expect(await t.redis.exists(keyOf(name, `${letter}:${current.id}`), keyOf(name, `${letter}:${next.id}`))).toBe(2);
      // Both period boards are registered, so remove() and reset() find them.
      expect((await t.redis.zrange(keyOf(name, 'boards'), '0', '-1')).sort()).toEqual(
        [keyOf(name, `${letter}:${current.id}`), keyOf(name, `${letter}:${next.id}`)].sort(),
      );
    },
  );

  it('reads pick a period board by period and instant', async () => {
    const { lb, clock } = leaderboard({ periods: ['daily', 'weekly', 'monthly'], policy: 'increment' });
    await lb.submit('alice', 3);
    clock.ms += day;
    await lb.submit('alice', 4);
    expect(await lb.score('alice')).toBe(4);
    expect(await lb.score('alice', { period: 'daily', at: clock.ms - day })).toBe(3);
    const sameWeek = spanAt('weekly', clock.ms - day, { timeZone: 'UTC', weekStartsOn: 1 }).end > clock.ms;
    expect(await lb.score('alice', { period: 'weekly' })).toBe(sameWeek ? 7 : 4);
  });

  it('period boards expire retention after their period ends; metadata lives as long as the last board', async () => {
    const { lb, clock, name } = leaderboard({
      periods: ['daily', 'weekly'],
      retention: { daily: '2d', weekly: '10d' },
      metadata: z.object({ team: z.string() }),
    });
    await lb.submit('alice', 10, { metadata: { team: 'red' } });
    const daily = spanAt('daily', clock.ms, { timeZone: 'UTC', weekStartsOn: 1 });
    const weekly = spanAt('weekly', clock.ms, { timeZone: 'UTC', weekStartsOn: 1 });
    expect(await t.redis.pexpiretime(keyOf(name, `d:${daily.id}`))).toBe(daily.end + 2 * day);
    expect(await t.redis.pexpiretime(keyOf(name, `w:${weekly.id}`))).toBe(weekly.end + 10 * day);
    expect(await t.redis.pexpiretime(keyOf(name, 'meta'))).toBe(weekly.end + 10 * day);
    expect(await t.redis.pexpiretime(keyOf(name, 'boards'))).toBe(weekly.end + 10 * day);
  });

  it('a period whose retention has already run out is expired by Redis at once', async () => {
    const { lb, clock, name } = leaderboard({ periods: ['daily', 'all-time'], retention: { daily: '1d' } });
    clock.ms -= 3 * day;
    const old = spanAt('daily', clock.ms, { timeZone: 'UTC', weekStartsOn: 1 });
    expect(await lb.submit('alice', 10)).toMatchObject({ score: 10, periods: { daily: { score: 10 } } });
    expect(await t.redis.exists(keyOf(name, `d:${old.id}`))).toBe(0);
    expect(await lb.score('alice', { period: 'all-time' })).toBe(10);
  });

  it('the all-time board never expires', async () => {
    const { lb, name } = leaderboard({ periods: ['all-time', 'daily'], metadata: z.object({ team: z.string() }) });
    await lb.submit('alice', 1, { metadata: { team: 'red' } });
    expect(await t.redis.pttl(keyOf(name, 'all'))).toBe(-1);
    expect(await t.redis.pttl(keyOf(name, 'meta'))).toBe(-1);
  });

  describe('without an injected clock, the Redis server’s clock decides the period', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('a process whose clock is a day behind still writes to the server’s current day', async () => {
      const name = `p${boards++}`;
      const lb = new Leaderboard({ redis: t.redis, namespace: t.namespace, name, periods: ['daily'] });
      const before = spanAt('daily', Date.now(), { timeZone: 'UTC', weekStartsOn: 1 }).id;
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() - day);
      const wrong = spanAt('daily', Date.now(), { timeZone: 'UTC', weekStartsOn: 1 }).id;
      await lb.submit('alice', 1);
      await lb.submit('bob', 2);
      // Reads follow the server's clock learned by the submit.
      expect(await lb.count()).toBe(2);
      vi.useRealTimers();
      const after = spanAt('daily', Date.now(), { timeZone: 'UTC', weekStartsOn: 1 }).id;
      const written = (await t.redis.zrange(keyOf(name, 'boards'), '0', '-1')).map((key) => key.split(':').at(-1));
      expect(written).not.toContain(wrong);
      expect(written.every((id) => id === before || id === after)).toBe(true);
    });
  });
});
