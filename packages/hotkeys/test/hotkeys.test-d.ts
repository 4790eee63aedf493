import { connect } from '@redkit/core';
import {
  type HotKey,
  HotKeyDetector,
  type HotKeyEvents,
  mastersOf,
  ShardedCounter,
  slotRange,
  spreadTags,
} from '@redkit/hotkeys';
import { describe, expectTypeOf, it } from 'vitest';

describe('hotkeys public types', () => {
  const redis = connect('redis://localhost');

  it('the detector records strings and reports typed hot keys and events', () => {
    const detector = new HotKeyDetector({ threshold: 10, window: '5s' });
    expectTypeOf(detector.record('a')).toEqualTypeOf<boolean>();
    expectTypeOf(detector.hotKeys()).toEqualTypeOf<HotKey[]>();
    expectTypeOf(detector.isHot('a')).toEqualTypeOf<boolean>();
    detector.on('hot-key', (event) => expectTypeOf(event).toEqualTypeOf<HotKeyEvents['hot-key']>());
    detector.on('cooled', ({ key, estimate }) => {
      expectTypeOf(key).toEqualTypeOf<string>();
      expectTypeOf(estimate).toEqualTypeOf<number>();
    });
    // @ts-expect-error no such event
    detector.on('warm', () => {});
    // @ts-expect-error window is a duration
    new HotKeyDetector({ window: true });
  });

  it('spread tags and masters', () => {
    expectTypeOf(spreadTags('x', 6)).toEqualTypeOf<readonly string[]>();
    expectTypeOf(mastersOf(redis, ['a'])).resolves.toEqualTypeOf<string[]>();
    expectTypeOf(slotRange(0, 3)).toEqualTypeOf<readonly [first: number, end: number]>();
  });

  it('the sharded counter', () => {
    const counter = new ShardedCounter({ redis, name: 'views', shards: 12, ttl: '1h' });
    expectTypeOf(counter.increment()).resolves.toEqualTypeOf<void>();
    expectTypeOf(counter.value()).resolves.toEqualTypeOf<number>();
    expectTypeOf(counter.keys).toEqualTypeOf<readonly string[]>();
    // @ts-expect-error name is required
    new ShardedCounter({ redis });
    // @ts-expect-error by is a number
    counter.increment('1');
  });
});
