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

/**
 * The in-memory tier (L1), keyed by application key: a bounded LRU (entries
 * and bytes) in front of Redis. Other processes' writes reach it as invalidations carrying the
 * write's version; a version "floor" per key then refuses any older value
 * that a read still in flight brings back, so a late reply cannot resurrect
 * a value that was overwritten.
 */
export class MemoryTier {
  private readonly entries: LRUCache<string, MemoryEntry>;
  private readonly floors = new LRUCache<string, number>({ max: 100_000, ttl: floorMs, ttlAutopurge: false });

  constructor(options: { maxEntries: number; maxBytes: number; ttl: number | undefined }) {
    this.entries = new LRUCache<string, MemoryEntry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // The size passed to set(); a value's serialized length stands for its memory.
      sizeCalculation: () => 1,
      ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
      ttlAutopurge: false,
    });
  }

  get(key: string): MemoryEntry | undefined {
    return this.entries.get(key);
  }

  /** Keeps an entry unless an invalidation newer than it was seen; `size` in bytes. */
  set(key: string, entry: MemoryEntry, size: number, maxAgeMs: number): void {
    const floor = this.floors.get(key);
    if (floor !== undefined && entry.version < floor) return;
    if (maxAgeMs <= 0) return;
    // Stored as a memory hit, so a hit hands out the stored object as it is.
    const kept = entry.tier === 'memory' ? entry : { ...entry, tier: 'memory' as const };
    this.entries.set(key, kept, { size: Math.max(1, size), ttl: maxAgeMs });
  }

  /** An invalidation: drops the key and remembers the version, so older values are refused for a while. */
  invalidate(key: string, version: number): void {
    const current = this.entries.get(key);
    if (!current || current.version < version) this.entries.delete(key);
    const floor = this.floors.get(key);
    if (floor === undefined || floor < version) this.floors.set(key, version);
  }

  /** A tag invalidation: drops every entry that carries the tag at an older version. */
  invalidateTag(tag: string, version: number): void {
    for (const [key, entry] of this.entries.entries()) {
      const seen = entry.tags?.get(tag);
      if (seen !== undefined && seen < version) this.entries.delete(key);
    }
  }

  /** Forgets everything (after a reconnect, invalidations may have been missed). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
