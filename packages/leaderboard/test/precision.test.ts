import { InvalidOptionsError } from '@redkit/core';
import { Leaderboard, ScoreRangeError } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { keysOf } from './helpers.js';

describeTopologies('precision budget', (t) => {
  let boards = 0;
  const board = (options: Partial<ConstructorParameters<typeof Leaderboard>[0]> = {}) =>
    new Leaderboard({ redis: t.redis, namespace: t.namespace, name: `p${boards++}`, ...options });

  it('the default budget: 31-bit scores, 17 tie bits with 5 guard bits for combining 32 periods', () => {
    expect(board().precision).toEqual({
      maxScore: 2 ** 31 - 1,
      decimals: 0,
      scoreBits: 31,
      tieBits: 17,
      tiesPerScore: 131_072,
      maxCombinedPeriods: 32,
      maxCombinedScore: 2 ** 31 - 1,
    });
    expect(board({ maxScore: 1_000_000, maxCombinedPeriods: 1 }).precision).toMatchObject({
      scoreBits: 20,
      tieBits: 33,
      tiesPerScore: 2 ** 33,
    });
    expect(board({ maxScore: 100, decimals: 2, maxCombinedPeriods: 100 }).precision).toMatchObject({
      scoreBits: 14,
      tieBits: 32,
      maxCombinedPeriods: 128,
      maxCombinedScore: 163.83,
    });
  });

  describe.each([
    ['small scores, many ties', { maxScore: 1000 }],
    ['the default', {}],
    ['large scores, 1 tie bit', { maxScore: 2 ** 47 - 1, maxCombinedPeriods: 32 }],
    ['the largest budget', { maxScore: 2 ** 51 - 1, maxCombinedPeriods: 1 }],
    ['two decimals', { maxScore: 2 ** 40 / 100, decimals: 2, maxCombinedPeriods: 1 }],
  ])('%s', (_name, options) => {
    it.each(['desc', 'asc'] as const)(
      'scores at ±maxScore round-trip exactly with their tie order (%s)',
      async (order) => {
        const lb = board({ ...options, order, policy: 'replace' });
        const { maxScore } = lb.precision;
        const unit = 10 ** -lb.precision.decimals;
        const scores = [maxScore, maxScore - unit, -maxScore, -maxScore + unit, 0];
        for (const [index, score] of scores.entries()) {
          await lb.submit(`first-${index}`, score);
          await lb.submit(`second-${index}`, score);
        }
        for (const [index, score] of scores.entries()) {
          expect(await lb.score(`first-${index}`)).toBe(score);
          // Equal scores at the edges keep their arrival order.
          expect((await lb.rank(`first-${index}`)) as number).toBeLessThan(
            (await lb.rank(`second-${index}`)) as number,
          );
        }
        const top = await lb.top(10);
        const sorted = [...scores].sort((a, b) => (order === 'desc' ? b - a : a - b));
        expect(top.map((entry) => entry.score)).toEqual(sorted.flatMap((score) => [score, score]));
      },
    );

    it('a score one unit beyond maxScore is refused and nothing is written', async () => {
      const lb = board(options);
      const { maxScore } = lb.precision;
      const unit = 10 ** -lb.precision.decimals;
      for (const score of [maxScore + unit, -maxScore - unit]) {
        const error = await lb.submit('over', score).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ScoreRangeError);
        expect(error).toMatchObject({ code: 'E_SCORE_RANGE', reason: 'range' });
      }
      expect(await keysOf(t.redis, `${t.namespace}:{${lb.name}}`)).toEqual([]);
    });
  });

  it('an increment that would pass maxScore is refused in the script; nothing changes on any board', async () => {
    const lb = board({ maxScore: 1000, policy: 'increment', periods: ['all-time', 'daily'] });
    await lb.submit('alice', 990);
    await lb.submit('alice', 10);
    expect(await lb.score('alice')).toBe(1000);
    const rejected: unknown[] = [];
    lb.events.on('score-rejected', (event) => rejected.push(event));
    const error = await lb.submit('alice', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScoreRangeError);
    expect(error).toMatchObject({ score: 1001, reason: 'range' });
    expect(rejected).toEqual([{ member: 'alice', score: 1001, reason: 'range' }]);
    expect(await lb.score('alice')).toBe(1000);
    expect(await lb.score('alice', { period: 'daily' })).toBe(1000);
    // Increments themselves are scores within ±maxScore.
    await expect(lb.submit('alice', -2000)).rejects.toMatchObject({ score: -2000, reason: 'range' });
    await lb.submit('alice', -1000);
    await lb.submit('alice', -1000);
    expect(await lb.score('alice')).toBe(-1000);
    await expect(lb.submit('alice', -1)).rejects.toThrow(ScoreRangeError);
  });

  it.each([
    [Number.NaN, 'not-finite'],
    [Number.POSITIVE_INFINITY, 'not-finite'],
    [Number.NEGATIVE_INFINITY, 'not-finite'],
    [1.5, 'decimals'],
    [2 ** 30 + 0.5, 'decimals'],
    [2 ** 53, 'range'],
  ])('%s → ScoreRangeError (%s), before anything is sent', async (score, reason) => {
    const lb = board();
    const error = await lb.submit('x', score).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScoreRangeError);
    expect(error).toMatchObject({ reason });
    expect((error as Error).message).toMatch(/^score .+ (is not a finite number|is not a whole number|is outside)/);
  });

  it('decimals: a value with more decimal places than configured is refused, float noise is not', async () => {
    const lb = board({ decimals: 2, policy: 'increment' });
    await expect(lb.submit('x', 0.125)).rejects.toMatchObject({ reason: 'decimals' });
    await lb.submit('x', 0.1 + 0.2);
    expect(await lb.score('x')).toBe(0.3);
    await lb.submit('x', 1_234_567.89 - 0.3);
    expect(await lb.score('x')).toBe(1_234_567.89);
  });

  it('a maxScore that leaves no tie bits is refused at construction', () => {
    expect(() => board({ maxScore: 2 ** 48, maxCombinedPeriods: 32 })).toThrow(InvalidOptionsError);
    expect(() => board({ maxScore: 2 ** 48, maxCombinedPeriods: 32 })).toThrow(/maxScore: needs 49 bits/);
    expect(() => board({ maxScore: 2 ** 52, maxCombinedPeriods: 1 })).toThrow(/maxScore/);
    expect(() => board({ maxScore: 0.001, decimals: 2 })).toThrow(/maxScore: must be at least/);
  });

  it('boards written with another encoding refuse writes from a differently configured instance', async () => {
    const name = `enc${boards++}`;
    const original = new Leaderboard({ redis: t.redis, namespace: t.namespace, name, maxScore: 1000 });
    await original.submit('alice', 5);
    // Same bit width (1000 and 1023 both need 10 bits): compatible.
    const compatible = new Leaderboard({ redis: t.redis, namespace: t.namespace, name, maxScore: 1023 });
    await compatible.submit('bob', 6);
    for (const other of [
      { maxScore: 1024 },
      { maxScore: 1000, order: 'asc' as const },
      { maxScore: 10, decimals: 2 },
    ]) {
      const lb = new Leaderboard({ redis: t.redis, namespace: t.namespace, name, ...other });
      const error = await lb.submit('carol', 1).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'E_BOARD_ENCODING', stored: 'lb1 desc 0 10' });
    }
    expect(await original.count()).toBe(2);
  });
});
