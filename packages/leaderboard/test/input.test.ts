import { Leaderboard, type LeaderboardOptions, ScoreRangeError } from '@redkit/leaderboard';
import { badCallsContract, badOptionsContract } from '@redkit/testing/contracts';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keysOf } from './helpers.js';

describeTopologies('bad input', (t) => {
  const options = (): LeaderboardOptions => ({ redis: t.redis, namespace: t.namespace, name: 'board' });

  describe('constructor', () => {
    badOptionsContract([
      ['empty name', () => new Leaderboard({ ...options(), name: '' }), 'name: must not be empty'],
      ['name not a string', () => new Leaderboard({ ...options(), name: 42 as never }), 'name'],
      ['name too long', () => new Leaderboard({ ...options(), name: 'x'.repeat(300) }), 'name: must be at most 256'],
      ['bad namespace', () => new Leaderboard({ ...options(), namespace: 'a{b}' }), 'namespace'],
      ['not a client', () => new Leaderboard({ ...options(), redis: {} as never }), 'redis: must be an ioredis'],
      ['order', () => new Leaderboard({ ...options(), order: 'up' as never }), 'order'],
      ['policy', () => new Leaderboard({ ...options(), policy: 'max' as never }), 'policy'],
      ['ties', () => new Leaderboard({ ...options(), ties: 'random' as never }), 'ties'],
      ['rank style', () => new Leaderboard({ ...options(), rankStyle: 'olympic' as never }), 'rankStyle'],
      ['maxScore 0', () => new Leaderboard({ ...options(), maxScore: 0 }), 'maxScore'],
      ['maxScore infinite', () => new Leaderboard({ ...options(), maxScore: Number.POSITIVE_INFINITY }), 'maxScore'],
      ['decimals 7', () => new Leaderboard({ ...options(), decimals: 7 }), 'decimals'],
      ['no periods', () => new Leaderboard({ ...options(), periods: [] }), 'periods: must list at least one'],
      [
        'a period twice',
        () => new Leaderboard({ ...options(), periods: ['daily', 'daily'] }),
        'periods: must not list',
      ],
      ['unknown period', () => new Leaderboard({ ...options(), periods: ['hourly' as never] }), 'periods.0'],
      ['time zone', () => new Leaderboard({ ...options(), timeZone: 'Mars/Olympus' }), 'timeZone: must be an IANA'],
      ['week start', () => new Leaderboard({ ...options(), weekStartsOn: 7 }), 'weekStartsOn'],
      ['retention', () => new Leaderboard({ ...options(), retention: { daily: 'soon' as never } }), 'retention.daily'],
      ['maxCombinedPeriods 0', () => new Leaderboard({ ...options(), maxCombinedPeriods: 0 }), 'maxCombinedPeriods'],
      [
        'metadata not a schema',
        () => new Leaderboard({ ...options(), metadata: {} as never }),
        'metadata: must be a zod',
      ],
      ['clock not a function', () => new Leaderboard({ ...options(), clock: 5 as never }), 'clock'],
      ['unknown option', () => new Leaderboard({ ...options(), ordr: 'asc' } as never), 'ordr'],
    ]);
  });

  describe('calls', () => {
    const lb = new Leaderboard({
      ...options(),
      metadata: z.object({ team: z.string() }),
      periods: ['all-time', 'daily'],
    });
    const plain = new Leaderboard({ ...options(), name: 'plain' });

    badCallsContract(
      [
        ['empty member', () => lb.submit('', 1), 'member: must not be empty'],
        ['member not a string', () => lb.submit(7 as never, 1), 'member'],
        ['member too long', () => lb.rank('x'.repeat(1025)), 'member: must be at most 1024'],
        ['score not a number', () => lb.submit('a', '5' as never), 'score: must be a number'],
        ['policy', () => lb.submit('a', 1, { policy: 'max' as never }), 'policy'],
        ['metadata failing the schema', () => lb.submit('a', 1, { metadata: { team: 5 } as never }), 'metadata.team'],
        [
          'metadata without a schema',
          () => plain.submit('a', 1, { metadata: {} as never }),
          'metadata: this leaderboard has no',
        ],
        ['unknown submit option', () => lb.submit('a', 1, { polcy: 'best' } as never), 'polcy'],
        ['top 0', () => lb.top(0), 'n'],
        ['top 1001', () => lb.top(1001), 'n'],
        ['top 2.5', () => lb.top(2.5), 'n'],
        ['negative page', () => lb.page(-1, 10), 'index'],
        ['page size 0', () => lb.page(0, 0), 'size'],
        ['page size too large', () => lb.page(0, 5000), 'size'],
        ['page index not a number', () => lb.page('1' as never, 10), 'index'],
        ['negative radius', () => lb.around('a', -1), 'radius'],
        ['radius too large', () => lb.around('a', 600), 'radius'],
        ['period not kept', () => lb.top(3, { period: 'weekly' }), 'period: must be one of'],
        ['bad instant', () => lb.top(3, { period: 'daily', at: 'yesterday' }), 'at: must be'],
        [
          'dense ranks without the index',
          () => lb.top(3, { rankStyle: 'dense' }),
          "rankStyle: dense ranks need the leaderboard's",
        ],
        ['metadata without a schema', () => plain.top(3, { metadata: true }), 'metadata'],
        ['unknown read option', () => lb.top(3, { limit: 3 } as never), 'limit'],
        ['trim with a negative count', () => lb.trim(-1), 'keep'],
        ['export batch 0', () => lb.export({ batch: 0 }).next(), 'batch'],
        ['remove an empty member', () => lb.remove(''), 'member'],
        ['reset an unknown period', () => lb.reset({ period: 'monthly' }), 'period'],
      ],
      { redis: () => t.redis, namespace: t.namespace },
    );

    it.each([Number.NaN, Number.POSITIVE_INFINITY, 2 ** 40, 0.5])(
      'score %s → ScoreRangeError, nothing written',
      async (score) => {
        await expect(lb.submit('a', score)).rejects.toThrow(ScoreRangeError);
      },
    );

    it('none of the bad calls above wrote anything', async () => {
      expect(await keysOf(t.redis, t.namespace)).toEqual([]);
    });
  });
});
