import { driverFor, type RedisConnection } from '@redkit/core';

/**
 * Commands that are not the workload: our own INFO snapshots, and REPLCONF
 * ACK, which replicas send their master every second on a cluster.
 */
const ignored = new Set(['info', 'replconf']);

/** Calls per command name, summed over every master. */
export type CommandCounts = Map<string, number>;

/** Parses `cmdstat_<name>:calls=<n>,usec=…` lines of `INFO commandstats`. */
function parseCommandStats(text: string, into: CommandCounts): void {
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (!match) continue;
    const name = (match[1] as string).toLowerCase();
    if (ignored.has(name)) continue;
    into.set(name, (into.get(name) ?? 0) + Number(match[2]));
  }
}

/**
 * Reads the servers' own command counters from every master, so the count
 * includes what the client library sends on its own (retries, EVAL fallbacks,
 * slot-map refreshes) and, on Redis 7, the commands a script runs.
 */
export async function readCommandCounts(redis: RedisConnection): Promise<CommandCounts> {
  const counts: CommandCounts = new Map();
  const masters = await driverFor(redis).masters();
  const replies = await Promise.all(masters.map((master) => master.command<string>('INFO', ['commandstats'])));
  for (const reply of replies) parseCommandStats(String(reply), counts);
  return counts;
}

/**
 * Commands each master has run (INFO and REPLCONF left out), in the order of
 * their addresses, so two snapshots line up: where a workload's load goes.
 */
export async function readCommandsPerMaster(redis: RedisConnection): Promise<number[]> {
  const masters = await driverFor(redis).masters();
  const replies = await Promise.all(
    masters.map(async (master) => {
      const counts: CommandCounts = new Map();
      parseCommandStats(String(await master.command<string>('INFO', ['commandstats'])), counts);
      const server = String(await master.command<string>('INFO', ['server']));
      const port = /^tcp_port:(\d+)/m.exec(server)?.[1] ?? '';
      let calls = 0;
      for (const value of counts.values()) calls += value;
      return { port, calls };
    }),
  );
  return replies.sort((a, b) => a.port.localeCompare(b.port)).map((reply) => reply.calls);
}

/** Calls per operation of each command between two snapshots (commands with no calls left out). */
export function perOperation(before: CommandCounts, after: CommandCounts, ops: number): Map<string, number> {
  const result = new Map<string, number>();
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0);
    if (delta > 0) result.set(name, delta / ops);
  }
  return new Map([...result].sort(([nameA, a], [nameB, b]) => b - a || nameA.localeCompare(nameB)));
}

/** Total commands per operation. */
export function total(perOp: Map<string, number>): number {
  let sum = 0;
  for (const value of perOp.values()) sum += value;
  return sum;
}

/**
 * CPU seconds (user + system) the masters have used, from `INFO cpu`. The
 * difference around a run is what the workload cost the servers, which holds
 * up better than ops/s when Node and Redis compete for the same two cores.
 */
export async function readServerCpuSeconds(redis: RedisConnection): Promise<number> {
  const masters = await driverFor(redis).masters();
  const replies = await Promise.all(masters.map((master) => master.command<string>('INFO', ['cpu'])));
  let seconds = 0;
  for (const reply of replies) {
    for (const match of String(reply).matchAll(/^used_cpu_(?:sys|user):([\d.]+)/gm)) seconds += Number(match[1]);
  }
  return seconds;
}
