import { InvalidOptionsError } from '@redkit/core';
import { HotKeyDetector } from '@redkit/hotkeys';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { random } from './helpers.js';

describe('HotKeyDetector', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('count-min never under-estimates, and over-estimates by about reads / width on average', () => {
    const detector = new HotKeyDetector({ width: 256, depth: 4, threshold: 1_000_000 });
    const next = random(7);
    const truth = new Map<string, number>();
    const reads = 20_000;
    for (let index = 0; index < reads; index++) {
      // Skewed: a few keys are read often, most rarely.
      const key = `k${Math.floor(next() ** 3 * 2_000)}`;
      truth.set(key, (truth.get(key) ?? 0) + 1);
      detector.record(key);
    }
    let excess = 0;
    for (const [key, count] of truth) {
      const estimate = detector.estimate(key);
      expect(estimate, key).toBeGreaterThanOrEqual(count);
      excess += estimate - count;
    }
    expect(detector.totalReads()).toBe(reads);
    expect(excess / truth.size).toBeLessThanOrEqual(reads / 256);
    // A key never read is estimated from the same cells: never negative, usually small.
    expect(detector.estimate('never-read')).toBeGreaterThanOrEqual(0);
  });

  it('reports a key read 1000 times among 10,000 one-off keys, and only that key', () => {
    const detector = new HotKeyDetector({ threshold: 500 });
    const hot: { key: string; estimate: number }[] = [];
    detector.on('hot-key', (event) => hot.push(event));
    for (let index = 0; index < 10_000; index++) {
      detector.record(`once:${index}`);
      if (index % 10 === 0) detector.record('viral');
    }
    const found = detector.hotKeys();
    expect(found.map((row) => row.key)).toEqual(['viral']);
    expect(found[0]?.estimate).toBeGreaterThanOrEqual(1000);
    expect(hot).toEqual([{ key: 'viral', estimate: 500 }]);
    expect(detector.isHot('viral')).toBe(true);
    expect(detector.isHot('once:1')).toBe(false);
  });

  it('decays: the previous window counts by its overlap with the last window, and a key read no more cools', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const detector = new HotKeyDetector({ threshold: 100, window: 1_000 });
    const cooled: { key: string; estimate: number }[] = [];
    detector.on('cooled', (event) => cooled.push(event));
    for (let index = 0; index < 300; index++) detector.record('a');
    expect(detector.estimate('a')).toBe(300);
    vi.advanceTimersByTime(1_000);
    // The window rotated just now: all of the previous one still overlaps.
    expect(detector.estimate('a')).toBe(300);
    vi.advanceTimersByTime(500);
    expect(detector.estimate('a')).toBe(150);
    expect(detector.isHot('a')).toBe(true);
    vi.advanceTimersByTime(300);
    expect(detector.estimate('a')).toBe(60);
    expect(detector.isHot('a')).toBe(false);
    expect(cooled).toEqual([{ key: 'a', estimate: 60 }]);
    expect(detector.hotKeys()).toEqual([]);
    vi.advanceTimersByTime(5_000);
    expect(detector.estimate('a')).toBe(0);
    expect(detector.totalReads()).toBe(0);
  });

  it('a cooling key is reported by the rotation a later record() notices, within 64 calls', () => {
    vi.useFakeTimers({ now: 0 });
    const detector = new HotKeyDetector({ threshold: 10, window: 100 });
    const cooled: string[] = [];
    detector.on('cooled', ({ key }) => cooled.push(key));
    for (let index = 0; index < 10; index++) detector.record('a');
    vi.advanceTimersByTime(250);
    // record() looks at the clock once every 64 calls.
    for (let index = 0; index < 54; index++) detector.record(`b${index}`);
    expect(cooled).toEqual([]);
    detector.record('b');
    expect(cooled).toEqual(['a']);
  });

  it('keeps at most topK hot keys: a hotter key displaces the coldest, which cools', () => {
    const detector = new HotKeyDetector({ threshold: 10, topK: 2 });
    const events: string[] = [];
    detector.on('hot-key', ({ key }) => events.push(`hot:${key}`));
    detector.on('cooled', ({ key }) => events.push(`cooled:${key}`));
    // record() says whether the key is hot after that read.
    expect(Array.from({ length: 10 }, () => detector.record('a'))).toEqual([...Array(9).fill(false), true]);
    for (let index = 10; index < 30; index++) expect(detector.record('a')).toBe(true);
    for (let index = 0; index < 20; index++) detector.record('b');
    for (let index = 0; index < 25; index++) detector.record('c');
    expect(detector.hotKeys().map((row) => row.key)).toEqual(['a', 'c']);
    expect(events).toEqual(['hot:a', 'hot:b', 'cooled:b', 'hot:c']);
  });

  it('minShare: a key must also take that share of all recent reads', () => {
    const detector = new HotKeyDetector({ threshold: 10, minShare: 0.2 });
    for (let index = 0; index < 100; index++) {
      detector.record(`k${index % 10}`);
      if (index % 4 === 0) detector.record('big');
    }
    // 'big' has 25 of 125 reads (20%); each kN has 10 (8%).
    expect(detector.hotKeys().map((row) => row.key)).toEqual(['big']);
  });

  it('reset() forgets everything without events', () => {
    const detector = new HotKeyDetector({ threshold: 2 });
    const events: string[] = [];
    detector.events.onAny((_, type) => events.push(type));
    detector.record('a');
    detector.record('a');
    detector.reset();
    expect(detector.hotKeys()).toEqual([]);
    expect(detector.estimate('a')).toBe(0);
    expect(events).toEqual(['hot-key']);
  });

  it('bad options throw InvalidOptionsError naming the field', () => {
    for (const [options, field] of [
      [{ width: 8 }, 'width'],
      [{ depth: 0 }, 'depth'],
      [{ depth: 1.5 }, 'depth'],
      [{ topK: 0 }, 'topK'],
      [{ window: 'soon' }, 'window'],
      [{ threshold: -1 }, 'threshold'],
      [{ minShare: 2 }, 'minShare'],
      [{ color: 'red' }, ''],
    ] as const) {
      const error = (() => {
        try {
          new HotKeyDetector(options as never);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error, field).toBeInstanceOf(InvalidOptionsError);
      if (field) expect((error as InvalidOptionsError).issues.map((issue) => issue.path)).toEqual([field]);
    }
  });
});
