/**
 * What a queue reports about itself: the stream and group state read by one
 * atomic script (`StreamQueue.stats`), and the health verdict made from it
 * against thresholds (`StreamQueue.health`).
 */
import type { CallOptions, RedisDriver } from '@redkit/core';
import type { z } from 'zod';
import type { healthOptionsSchema } from '../options.js';
import type { QueueKeys } from './queue-keys.js';
import { readStats } from './scripts.js';

/** Pending entries sampled per group for the delivery-count distribution. */
const statsSample = 1_000;

/** The state of one consumer group (see `StreamQueue.stats`). */
export interface GroupStats {
  readonly name: string;
  /** Delivered to a consumer and not acknowledged yet. */
  readonly pending: number;
  /** Entries not yet delivered to the group, or null when the server cannot tell (Redis < 7, or after a deletion in the stream). */
  readonly lag: number | null;
  /** Age of the oldest pending entry in ms (by its id's time, against the Redis clock), or null when nothing is pending. */
  readonly oldestPendingMs: number | null;
  /** Pending entries by delivery count (`{ 1: 40, 3: 2 }`), over at most the oldest 1,000 pending entries. */
  readonly deliveries: Readonly<Record<number, number>>;
  /** Consumers the group knows (including ones that stopped, until deleted). */
  readonly consumers: number;
}

/** The state of a stream, read at one instant (see `StreamQueue.stats`). */
export interface QueueStats {
  /** Entries in the stream (acknowledged ones included until trimmed). */
  readonly length: number;
  /** Retries waiting for their backoff. */
  readonly delayed: number;
  /** Dead letters. */
  readonly dead: number;
  readonly groups: readonly GroupStats[];
}

/** Outcome of `health`. */
export interface QueueHealth {
  /** True when Redis answered and no threshold was exceeded. */
  readonly healthy: boolean;
  /** What is wrong, one line each (empty when healthy). */
  readonly problems: readonly string[];
  /** The stats the check was made on (absent when Redis did not answer). */
  readonly stats?: QueueStats;
}

/** Reads the state of the stream and its groups in one atomic script. */
export async function readQueueStats(
  driver: RedisDriver,
  keys: QueueKeys,
  call: CallOptions | undefined,
): Promise<QueueStats> {
  const [now, length, delayed, dead, groups] = await driver.script(
    readStats,
    [keys.stream, keys.delayed, keys.dead],
    [statsSample],
    call,
  );
  return {
    length,
    delayed,
    dead,
    groups: groups.map(([name, pending, lag, oldest, histogram, consumers]) => {
      const deliveries: Record<number, number> = {};
      for (let index = 0; index + 1 < histogram.length; index += 2) {
        deliveries[Number(histogram[index])] = Number(histogram[index + 1]);
      }
      return {
        name: String(name),
        pending: Number(pending),
        lag: Number(lag) < 0 ? null : Number(lag),
        oldestPendingMs: oldest === '' ? null : Math.max(0, now - Number(oldest.split('-')[0])),
        deliveries,
        consumers: Number(consumers),
      };
    }),
  };
}

/** Health thresholds, resolved. */
type Thresholds = z.output<typeof healthOptionsSchema>;

/** Checks the stats that `read` returns against the thresholds; a Redis failure is a problem it reports, not a throw. */
export async function assessHealth(
  read: () => Promise<QueueStats>,
  { maxPendingAge, maxLag, maxDead }: Thresholds,
): Promise<QueueHealth> {
  let stats: QueueStats;
  try {
    stats = await read();
  } catch (error) {
    return {
      healthy: false,
      problems: [`Redis did not answer: ${error instanceof Error ? error.message : String(error)}`],
    };
  }
  const problems: string[] = [];
  for (const group of stats.groups) {
    if (group.oldestPendingMs !== null && group.oldestPendingMs > maxPendingAge) {
      problems.push(
        `group ${group.name}: oldest pending entry is ${group.oldestPendingMs} ms old (max ${maxPendingAge})`,
      );
    }
    if (maxLag !== undefined && group.lag !== null && group.lag > maxLag) {
      problems.push(`group ${group.name}: ${group.lag} entries not read yet (max ${maxLag})`);
    }
  }
  if (stats.dead > maxDead) problems.push(`${stats.dead} dead letters (max ${maxDead})`);
  return { healthy: problems.length === 0, problems, stats };
}
