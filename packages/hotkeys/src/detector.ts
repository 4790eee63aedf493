import { parseOptions, TelemetryEmitter } from '@redkit/core';
import type { HotKeyEvents } from './events.js';
import {
  type HotKeyDetectorOptions,
  hotKeyDetectorOptionsSchema,
  type ResolvedHotKeyDetectorOptions,
} from './options.js';

/** A key and its estimated reads in the last window. */
export interface HotKey {
  readonly key: string;
  /** Estimated reads in the last `window`; never below the true count (count-min sketch). */
  readonly estimate: number;
}

/** A tracked hot key: its sketch cells are kept so it can be re-estimated without hashing. */
interface Entry {
  readonly key: string;
  readonly cells: Uint32Array;
  estimate: number;
}

/**
 * Finds the keys read most in the recent past, in process, in bounded memory:
 * a count-min sketch estimates every key's reads, and the keys whose estimate
 * reaches the threshold are kept in a top-K table.
 *
 * "Recent" is two rotating windows of length `window`: reads go to the
 * current one; a key's estimate is its current count plus its previous-window
 * count weighted by how much of that window still falls within the last
 * `window` (a sliding-window approximation). Windows rotate lazily (on a
 * result call, or within 64 `record` calls of the window's end), so the
 * detector owns no timer and needs no `close()`.
 *
 * `record(key)` is O(key length + depth) and allocates nothing unless the key
 * just became hot; call it on every read.
 *
 * @example
 * ```ts
 * const detector = new HotKeyDetector({ threshold: 500, window: '10s' })
 * detector.on('hot-key', ({ key, estimate }) => log.warn({ key, estimate }, 'hot key'))
 * detector.record('product:42') // on each read
 * detector.hotKeys() // [{ key: 'product:42', estimate: 812 }, …]
 * ```
 */
export class HotKeyDetector {
  /** Typed events: `hot-key` and `cooled` (see {@link HotKeyEvents}). */
  readonly events: TelemetryEmitter<HotKeyEvents>;
  /** The parsed options. */
  readonly options: Readonly<ResolvedHotKeyDetectorOptions>;
  private readonly width: number;
  private readonly depth: number;
  private readonly windowMs: number;
  private current: Uint32Array;
  private previous: Uint32Array;
  private currentTotal = 0;
  private previousTotal = 0;
  private windowStart: number;
  /** Weight of the previous window: the share of it still inside the last `window`. */
  private weight = 0;
  private readonly hot = new Map<string, Entry>();
  /** Reads left until `record` looks at the clock again. */
  private untilClock = 0;
  /** Sketch cells of the last hashed key (reused, so `record` allocates nothing). */
  private readonly cells: Uint32Array;

  constructor(options: HotKeyDetectorOptions = {}) {
    this.options = parseOptions(hotKeyDetectorOptionsSchema, options, 'HotKeyDetector');
    this.width = this.options.width;
    this.depth = this.options.depth;
    this.windowMs = this.options.window;
    this.current = new Uint32Array(this.width * this.depth);
    this.previous = new Uint32Array(this.width * this.depth);
    this.cells = new Uint32Array(this.depth);
    this.windowStart = Date.now();
    this.events = new TelemetryEmitter<HotKeyEvents>('hotkeys');
  }

  /** Adds a listener of `hot-key` or `cooled`; returns a function that removes it. */
  on<Type extends keyof HotKeyEvents>(type: Type, listener: (payload: HotKeyEvents[Type]) => void): () => void {
    return this.events.on(type, listener);
  }

  /**
   * Counts one read of `key`; returns whether the key is hot (after this
   * read). Emits `hot-key` when this read makes it hot.
   * O(key length + depth); allocation-free unless the key just became hot.
   */
  record(key: string): boolean {
    // Reading the clock allocates (a boxed double): do it every `clockEvery` reads only.
    if (--this.untilClock < 0) {
      this.untilClock = clockEvery - 1;
      this.tick(Date.now());
    }
    this.hash(key);
    const cells = this.cells;
    const current = this.current;
    let min = 0xffffffff;
    let previousMin = 0xffffffff;
    for (let row = 0; row < this.depth; row++) {
      const cell = cells[row] as number;
      const count = current[cell] as number;
      if (count < min) min = count;
      const before = this.previous[cell] as number;
      if (before < previousMin) previousMin = before;
    }
    // Conservative update: raise only the counters below the new estimate.
    // The others already count this read (they over-count by other keys'
    // reads); adding to them would only inflate the estimates of the keys
    // they share. Saturates instead of wrapping to 0 (an under-estimate).
    if (min !== 0xffffffff) min++;
    for (let row = 0; row < this.depth; row++) {
      const cell = cells[row] as number;
      if ((current[cell] as number) < min) current[cell] = min;
    }
    this.currentTotal++;
    const estimate = Math.ceil(min + this.weight * previousMin);
    const entry = this.hot.get(key);
    if (entry) {
      entry.estimate = estimate;
      return true;
    }
    if (estimate < this.options.threshold || !this.meetsShare(estimate)) return false;
    return this.admit(key, estimate);
  }

  /** Estimated reads of `key` in the last `window` (never below the true count). */
  estimate(key: string): number {
    this.tick(Date.now());
    this.hash(key);
    return this.estimateCells(this.cells);
  }

  /** Whether `key` is hot now. */
  isHot(key: string): boolean {
    this.tick(Date.now());
    const entry = this.hot.get(key);
    if (!entry) return false;
    return this.refresh(entry);
  }

  /** The hot keys, hottest first (at most `topK`). Emits `cooled` for keys that are no longer hot. */
  hotKeys(): HotKey[] {
    this.tick(Date.now());
    this.sweep();
    return [...this.hot.values()]
      .map((entry) => ({ key: entry.key, estimate: entry.estimate }))
      .sort((a, b) => b.estimate - a.estimate || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Estimated reads of all keys in the last `window`. */
  totalReads(): number {
    this.tick(Date.now());
    return Math.ceil(this.currentTotal + this.weight * this.previousTotal);
  }

  /** Forgets every count and hot key, without emitting events. */
  reset(): void {
    this.current.fill(0);
    this.previous.fill(0);
    this.currentTotal = 0;
    this.previousTotal = 0;
    this.hot.clear();
    this.windowStart = Date.now();
    this.weight = 0;
    this.untilClock = 0;
  }

  private meetsShare(estimate: number): boolean {
    const share = this.options.minShare;
    return share === 0 || estimate >= share * (this.currentTotal + this.weight * this.previousTotal);
  }

  /** Adds a newly hot key to the top-K table; false when the table is full of hotter keys. */
  private admit(key: string, estimate: number): boolean {
    if (this.hot.size >= this.options.topK) {
      let coldest: Entry | undefined;
      for (const entry of this.hot.values()) {
        if (!coldest || entry.estimate < coldest.estimate) coldest = entry;
      }
      if (!coldest || coldest.estimate >= estimate) return false;
      this.hot.delete(coldest.key);
      this.events.emit('cooled', { key: coldest.key, estimate: coldest.estimate });
    }
    this.hot.set(key, { key, cells: this.cells.slice(), estimate });
    this.events.emit('hot-key', { key, estimate });
    return true;
  }

  /** Re-estimates a tracked key; drops it (emitting `cooled`) when it is no longer hot. */
  private refresh(entry: Entry): boolean {
    entry.estimate = this.estimateCells(entry.cells);
    if (entry.estimate >= this.options.threshold && this.meetsShare(entry.estimate)) return true;
    this.hot.delete(entry.key);
    this.events.emit('cooled', { key: entry.key, estimate: entry.estimate });
    return false;
  }

  private sweep(): void {
    for (const entry of [...this.hot.values()]) this.refresh(entry);
  }

  private estimateCells(cells: Uint32Array): number {
    let min = 0xffffffff;
    let previousMin = 0xffffffff;
    for (let row = 0; row < this.depth; row++) {
      const cell = cells[row] as number;
      const count = this.current[cell] as number;
      if (count < min) min = count;
      const before = this.previous[cell] as number;
      if (before < previousMin) previousMin = before;
    }
    return Math.ceil(min + this.weight * previousMin);
  }

  /** Rotates the windows when the current one is over, and updates the previous window's weight. */
  private tick(now: number): void {
    const elapsed = now - this.windowStart;
    if (elapsed >= this.windowMs) {
      if (elapsed >= 2 * this.windowMs) {
        // Idle for more than a whole window: nothing recent is left.
        this.current.fill(0);
        this.previous.fill(0);
        this.currentTotal = 0;
        this.previousTotal = 0;
        this.windowStart = now - (elapsed % this.windowMs);
      } else {
        const emptied = this.previous;
        emptied.fill(0);
        this.previous = this.current;
        this.current = emptied;
        this.previousTotal = this.currentTotal;
        this.currentTotal = 0;
        this.windowStart += this.windowMs;
      }
      this.weight = 1 - (now - this.windowStart) / this.windowMs;
      this.sweep();
      return;
    }
    this.weight = this.previousTotal === 0 ? 0 : 1 - elapsed / this.windowMs;
  }

  /**
   * Fills `cells` with the key's counter index in each row. The key is hashed
   * once into two 32-bit values (FNV-1a and a murmur-style mix of its UTF-16
   * code units, so 64 bits in all); row `r` takes `h1 + r × h2` and mixes it
   * again before reducing it to the width. Without that last mix the index of
   * every row would be `(h1 + r × h2) mod width`, a function of only the low
   * bits of `h1` and `h2` (about 21 bits at width 2048): keys equal in those
   * bits would share every counter, and a never-read key could be estimated
   * at a hot key's whole count. Mixed, a row's index depends on all 64 bits,
   * and two keys meet in each row as if independently, with probability
   * `1 / width`: what the count-min bound assumes (test/detector-accuracy).
   */
  private hash(key: string): void {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let index = 0; index < key.length; index++) {
      const code = key.charCodeAt(index);
      h1 = Math.imul(h1 ^ code, 0x01000193);
      h2 = Math.imul(h2 ^ code, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 = fmix(h1);
    h2 = fmix(h2) | 1;
    const width = this.width;
    for (let row = 0; row < this.depth; row++) {
      this.cells[row] = row * width + (fmix((h1 + Math.imul(row, h2)) | 0) % width);
    }
  }
}

/**
 * `record` reads the clock once per this many calls: a window rotates (and
 * the older window's weight moves) at most this many reads late. Reads of the
 * results (`hotKeys`, `isHot`, `estimate`, `totalReads`) always look at the clock.
 */
const clockEvery = 64;

/** MurmurHash3's finaliser: spreads every input bit over the output. */
function fmix(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
