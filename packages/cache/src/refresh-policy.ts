import type { MemoryEntry } from './memory-tier.js';
import type { ResolvedCacheOptions } from './options.js';

/**
 * Whether a fresh entry is due for refresh-ahead: `fraction` of its ttl has
 * passed, or XFetch (`beta`) says refresh now. XFetch refreshes when
 * -β·δ·ln(U) ≥ the time left, U uniform in (0, 1], δ the last load's
 * duration: the slower the load, the earlier one caller (probably) refreshes.
 */
export function dueForRefresh(
  policy: ResolvedCacheOptions['refreshAhead'],
  found: Pick<MemoryEntry, 'freshUntil' | 'writtenAt' | 'loadMs'>,
  now: number,
): boolean {
  if (policy === false) return false;
  const left = found.freshUntil - now;
  if ('fraction' in policy) return left <= (found.freshUntil - found.writtenAt) * (1 - policy.fraction);
  return -policy.beta * Math.max(1, found.loadMs) * Math.log(1 - Math.random()) >= left;
}
