import { LRUCache } from 'lru-cache';

/** One value held in memory (or just read from Redis), with what is needed to check it without Redis. */
export interface MemoryEntry {
  /** Where the value was found; entries kept in memory say `memory`. */
  readonly tier: 'memory' | 'redis';
  readonly value: unknown;
  readonly version: number;
  readonly negative: boolean;
  readonly freshUntil: number;
  readonly staleUntil: number;
  readonly writtenAt: number;
  readonly loadMs: number;
  readonly tags: ReadonlyMap<string, number> | undefined;
}

/** How long an invalidation's version is remembered, to refuse older values read before it arrived. */
const floorMs = 30_000;

/** Options of the LRU part of the memory tier (the cache's `memory` option). */
export interface MemoryTierOptions {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly ttl: number | undefined;
}

/**
 * The in-memory tier (L1), keyed by application key: a bounded LRU (entries
 * and bytes) in front of Redis, and a small set of pinned keys (hot keys)
 * whose entries are kept outside the LRU, so they are neither evicted nor
 * limited by the LRU's ttl, and are kept even when the namespace has no LRU.
 * Other processes' writes reach both as invalidations carrying the write's
 * version; a version "floor" per key then refuses any older value that a read
 * still in flight brings back, so a late reply cannot resurrect a value that
 * was overwritten.
 */
export class MemoryTier {
  private readonly entries: LRUCache<string, MemoryEntry> | undefined;
  private readonly floors = new LRUCache<string, number>({ max: 100_000, ttl: floorMs, ttlAutopurge: false });
  /** Pinned keys and their entry (undefined until read or written after pinning, or after an invalidation). */
  private readonly pinned: Map<string, MemoryEntry | undefined> | undefined;
  private readonly maxPinned: number;

  /**
   * @param lru the LRU part, or undefined for none (a tier that only pins).
   * @param maxPinned most keys pinned at once (0: no pinning).
   */
  constructor(lru: MemoryTierOptions | undefined, maxPinned = 0) {
    this.entries =
      lru === undefined
        ? undefined
        : new LRUCache<string, MemoryEntry>({
            max: lru.maxEntries,
            maxSize: lru.maxBytes,
            // The size passed to set(); a value's serialized length stands for its memory.
            sizeCalculation: () => 1,
            ...(lru.ttl === undefined ? {} : { ttl: lru.ttl }),
            ttlAutopurge: false,
          });
    this.maxPinned = maxPinned;
    this.pinned = maxPinned > 0 ? new Map() : undefined;
  }

  get(key: string): MemoryEntry | undefined {
    if (this.pinned !== undefined) {
      const pinned = this.pinned.get(key);
      if (pinned !== undefined) return pinned;
    }
    return this.entries?.get(key);
  }

  /** Keeps an entry unless an invalidation newer than it was seen; `size` in bytes. */
  set(key: string, entry: MemoryEntry, size: number, maxAgeMs: number): void {
    const floor = this.floors.get(key);
    if (floor !== undefined && entry.version < floor) return;
    if (maxAgeMs <= 0) return;
    // Stored as a memory hit, so a hit hands out the stored object as it is.
    const kept = entry.tier === 'memory' ? entry : { ...entry, tier: 'memory' as const };
    if (this.pinned?.has(key)) {
      // A pinned entry is checked against its staleUntil by the reader; only a newer one replaces it.
      const current = this.pinned.get(key);
      if (current === undefined || current.version <= kept.version) this.pinned.set(key, kept);
      return;
    }
    this.entries?.set(key, kept, { size: Math.max(1, size), ttl: maxAgeMs });
  }

  /**
   * Pins `key`: its entry is kept outside the LRU until {@link unpin}.
   * @returns false when the pinned set is full (or pinning is off).
   */
  pin(key: string): boolean {
    if (this.pinned === undefined) return false;
    if (this.pinned.has(key)) return true;
    if (this.pinned.size >= this.maxPinned) return false;
    const current = this.entries?.get(key);
    this.pinned.set(key, current);
    if (current !== undefined) this.entries?.delete(key);
    return true;
  }

  /** Unpins `key` and forgets its pinned entry. */
  unpin(key: string): void {
    this.pinned?.delete(key);
  }

  isPinned(key: string): boolean {
    return this.pinned?.has(key) ?? false;
  }

  /** An invalidation: drops the key and remembers the version, so older values are refused for a while. */
  invalidate(key: string, version: number): void {
    if (this.pinned !== undefined) {
      const pinned = this.pinned.get(key);
      if (pinned !== undefined && pinned.version < version) this.pinned.set(key, undefined);
    }
    if (this.entries !== undefined) {
      const current = this.entries.get(key);
      if (!current || current.version < version) this.entries.delete(key);
    }
    const floor = this.floors.get(key);
    if (floor === undefined || floor < version) this.floors.set(key, version);
  }

  /** A tag invalidation: drops every entry that carries the tag at an older version. */
  invalidateTag(tag: string, version: number): void {
    if (this.pinned !== undefined) {
      for (const [key, entry] of this.pinned) {
        const seen = entry?.tags?.get(tag);
        if (seen !== undefined && seen < version) this.pinned.set(key, undefined);
      }
    }
    if (this.entries === undefined) return;
    for (const [key, entry] of this.entries.entries()) {
      const seen = entry.tags?.get(tag);
      if (seen !== undefined && seen < version) this.entries.delete(key);
    }
  }

  /** Forgets every value (after a reconnect, invalidations may have been missed); pinned keys stay pinned. */
  clear(): void {
    this.entries?.clear();
    if (this.pinned !== undefined) for (const key of this.pinned.keys()) this.pinned.set(key, undefined);
  }
}
