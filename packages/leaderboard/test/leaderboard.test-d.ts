import { connect } from '@redkit/core';
import {
  type CombinedBoard,
  type Entry,
  type ExportedEntry,
  Leaderboard,
  type LeaderboardOptions,
  type Period,
  type Precision,
  type RankStyle,
  type SubmitResult,
} from '@redkit/leaderboard';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

describe('leaderboard public types', () => {
  const redis = connect('redis://localhost');

  it('metadata is typed by the schema: its input on submit, its output on reads', () => {
    const schema = z.object({ name: z.string(), joined: z.string().transform((text) => text.length) });
    const lb = new Leaderboard({ redis, name: 'typed', metadata: schema });
    lb.submit('a', 1, { metadata: { name: 'A', joined: '2025' } });
    // @ts-expect-error metadata must match the schema's input
    lb.submit('a', 1, { metadata: { name: 5 } });
    expectTypeOf(lb.top(10)).resolves.toEqualTypeOf<Entry<{ name: string; joined: number }>[]>();
    expectTypeOf(lb.entry('a')).resolves.toEqualTypeOf<Entry<{ name: string; joined: number }> | null>();
    expectTypeOf(lb.around('a', 5)).resolves.toEqualTypeOf<Entry<{ name: string; joined: number }>[] | null>();
    expectTypeOf(lb.combine({ period: 'daily', from: 0, to: 1 })).toEqualTypeOf<
      CombinedBoard<{ name: string; joined: number }>
    >();
    expectTypeOf(lb.export()).toEqualTypeOf<
      AsyncGenerator<ExportedEntry<{ name: string; joined: number }>, void, undefined>
    >();
  });

  it('without a schema there is no metadata to pass or read', () => {
    const lb = new Leaderboard({ redis, name: 'plain' });
    expectTypeOf(lb.top(10)).resolves.toEqualTypeOf<Entry<never>[]>();
    expectTypeOf<Entry<never>['metadata']>().toEqualTypeOf<undefined>();
    // @ts-expect-error no schema, no metadata
    lb.submit('a', 1, { metadata: { anything: true } });
  });

  it('submit results, reads and options', () => {
    const lb = new Leaderboard({ redis, name: 'x', periods: ['daily', 'all-time'] });
    expectTypeOf(lb.submit('a', 1)).resolves.toEqualTypeOf<SubmitResult>();
    expectTypeOf<SubmitResult['periods']['daily']>().toEqualTypeOf<
      | { readonly score: number; readonly previous: number | null; readonly rank: number; readonly changed: boolean }
      | undefined
    >();
    expectTypeOf(lb.rank('a')).resolves.toEqualTypeOf<number | null>();
    expectTypeOf(lb.percentile('a')).resolves.toEqualTypeOf<number | null>();
    expectTypeOf(lb.count()).resolves.toEqualTypeOf<number>();
    expectTypeOf(lb.precision).toEqualTypeOf<Precision>();
    expectTypeOf(lb.periods).toEqualTypeOf<readonly Period[]>();
    expectTypeOf<RankStyle>().toEqualTypeOf<'ordinal' | 'competition' | 'dense'>();
    expectTypeOf<LeaderboardOptions['order']>().toEqualTypeOf<'asc' | 'desc' | undefined>();
    // @ts-expect-error unknown period
    new Leaderboard({ redis, name: 'x', periods: ['hourly'] });
    // @ts-expect-error combine needs a rolling period
    lb.combine({ period: 'all-time', from: 0, to: 1 });
    lb.top(3, { period: 'daily', at: new Date(), rankStyle: 'competition' });
    lb.top(3, { at: '2025-01-01' });
  });
});
