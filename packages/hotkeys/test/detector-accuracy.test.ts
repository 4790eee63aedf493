import { HotKeyDetector } from '@redkit/hotkeys';
import { describe, expect, it } from 'vitest';
import { random } from './helpers.js';

// The detector counts in process memory and sends nothing to Redis, so these
// tests need no server (and no topologies).

/** The default sketch: the figures of docs/hot-keys.md are for it. */
const width = 2048;
/** What the docs promise: an estimate exceeds the true count by at most e / width × reads (per key, with probability 1 − e^−depth). */
const boundPerRead = Math.E / width;

describe('HotKeyDetector accuracy', () => {
  it('a key never read does not take the count of a key that used to share all its counters', () => {
    // 'item:3982' and 'item:2192' had equal low 11 bits of both hashes: with
    // the row index (h1 + row × h2) mod 2048 they shared every counter.
    const detector = new HotKeyDetector();
    for (let index = 0; index < 1_000; index++) detector.record('item:3982');
    expect(detector.estimate('item:3982')).toBe(1_000);
    expect(detector.estimate('item:2192')).toBeLessThanOrEqual(boundPerRead * 1_000);
    expect(detector.record('item:2192')).toBe(false);
    expect(detector.hotKeys().map((row) => row.key)).toEqual(['item:3982']);
  });

  it('over 20 seeded Zipf(1.1) streams: estimates within the documented bound, and the true top 5 found in each', () => {
    const keys = 20_000;
    const reads = 50_000;
    const neverRead = 2_000;
    const sample = zipf(keys, 1.1);
    const bound = boundPerRead * reads;
    const failures: string[] = [];
    /** Estimates of read keys above count + bound, and the largest excess seen, in bounds. */
    let above = 0;
    let estimates = 0;
    let worst = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      // Which key has which rank differs from stream to stream, so each stream hashes different hot keys.
      const names = shuffled(
        Array.from({ length: keys }, (_, index) => `item:${index}`),
        next,
      );
      const counts = new Uint32Array(keys);
      const detector = new HotKeyDetector({ window: '1d' });
      for (let index = 0; index < reads; index++) {
        const rank = sample(next());
        counts[rank] = (counts[rank] as number) + 1;
        detector.record(names[rank] as string);
      }
      expect(detector.totalReads()).toBe(reads);
      for (let rank = 0; rank < keys; rank++) {
        const count = counts[rank] as number;
        if (count === 0) continue;
        const estimate = detector.estimate(names[rank] as string);
        if (estimate < count) failures.push(`seed ${seed}: ${names[rank]} read ${count}×, estimated ${estimate}`);
        estimates++;
        if (estimate - count > bound) above++;
        worst = Math.max(worst, (estimate - count) / bound);
      }
      // Keys nobody read: what a false hot key is made of.
      for (let index = 0; index < neverRead; index++) {
        const key = `never:${seed}:${index}`;
        const estimate = detector.estimate(key);
        if (estimate > bound) failures.push(`seed ${seed}: ${key} never read, estimated ${estimate}`);
      }
      const top5 = [...counts.keys()]
        .sort((a, b) => (counts[b] as number) - (counts[a] as number))
        .slice(0, 5)
        .map((rank) => names[rank]);
      const found = detector
        .hotKeys()
        .slice(0, 5)
        .map((row) => row.key);
      if (found.join() !== top5.join()) failures.push(`seed ${seed}: top 5 ${top5.join()}, reported ${found.join()}`);
    }
    expect(failures).toEqual([]);
    // The promise is per key: above the bound with probability at most e^−depth (depth 4: 1.8%).
    expect(above / estimates).toBeLessThanOrEqual(Math.exp(-4));
    // Rows that share every counter give a cold key a hot key's whole count, many times the bound.
    expect(worst).toBeLessThanOrEqual(2);
  }, 60_000);
});

/** Draws ranks 0..n-1 with P(rank k) ∝ (k + 1)^−s: `sample(u)` maps a uniform u in [0, 1) to a rank. */
function zipf(n: number, s: number): (u: number) => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let rank = 0; rank < n; rank++) {
    sum += (rank + 1) ** -s;
    cumulative[rank] = sum;
  }
  return (u) => {
    const target = u * sum;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((cumulative[middle] as number) <= target) low = middle + 1;
      else high = middle;
    }
    return low;
  };
}

/** Fisher–Yates with the given generator. */
function shuffled<T>(items: T[], next: () => number): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(next() * (index + 1));
    [items[index], items[other]] = [items[other] as T, items[index] as T];
  }
  return items;
}
