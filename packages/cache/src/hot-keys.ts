import { HotKeyDetector } from '@redkit/hotkeys';
import type { CacheContext } from './cache-context.js';
import type { ResolvedCacheOptions } from './options.js';

/** A hot key as `Cache.hotKeys()` reports it. */
export interface CacheHotKey {
  readonly key: string;
  /** Estimated reads in the detector's last `window` (never below the true count). */
  readonly estimate: number;
  /** Whether its value is kept in memory (pinned) while it stays hot. */
  readonly pinned: boolean;
}

/**
 * The cache's hot-key detector (the `hotKeys` option): forwards its events
 * as the cache's, and pins a hot key's value in memory (when `pin` is on)
 * while it stays hot.
 */
export function watchHotKeys(
  options: Exclude<ResolvedCacheOptions['hotKeys'], false>,
  context: CacheContext,
): HotKeyDetector {
  const { pin: _pin, ...detectorOptions } = options;
  const detector = new HotKeyDetector(detectorOptions);
  detector.on('hot-key', ({ key, estimate }) => {
    const pinned = context.memory?.pin(key) ?? false;
    context.events.emit('hot-key', { key, estimate, pinned });
  });
  detector.on('cooled', ({ key, estimate }) => {
    context.memory?.unpin(key);
    context.events.emit('hot-key-cooled', { key, estimate });
  });
  return detector;
}
