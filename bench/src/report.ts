import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { LoopOptions, ThroughputTiming, Timing, VariantRounds } from './runner.js';
import type { Scenario, ThroughputScenario } from './scenario.js';
import { summarySection } from './summary.js';

/** A measured run of one variant, with the server's command counts. */
export interface VariantResult extends Timing {
  /** Calls per operation of each command, as counted by the servers. */
  readonly commands: Map<string, number>;
  readonly cmdsPerOp: number;
  /** CPU time of this Node process per operation (client library and caller), in µs. */
  readonly nodeUsPerOp: number;
  /** CPU time of the Redis masters per operation, in µs. */
  readonly redisUsPerOp: number;
  /** Share of the operations with the scenario's `counted` outcome; undefined when it counts none. */
  readonly countedPerOp: number | undefined;
  /** Commands each master ran during the measured part, for scenarios with `masterShare`. */
  readonly masterCommands?: readonly number[];
}

/** One scenario's variants on one topology. */
export interface TopologyResult {
  /** e.g. "standalone" or "cluster (3 masters + 3 replicas)". */
  readonly label: string;
  readonly variants: VariantRounds<VariantResult>[];
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  /** How this scenario was driven; its section states them, as a later run may use other ones. */
  readonly options: LoopOptions;
  readonly topologies: TopologyResult[];
}

/** What the figures were measured on; written at the top of docs/benchmarks.md. */
export interface Environment {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly ioredis: string;
  readonly redis: string;
  readonly date: Date;
}

/** The range of the rounds' figures as a share of the quoted (median) one: ±half of it. */
function spreadOf(figures: readonly number[], median: number): string {
  if (figures.length < 2 || median === 0) return '';
  return `±${((50 * (Math.max(...figures) - Math.min(...figures))) / median).toFixed(0)}%`;
}

interface Row {
  variant: string;
  opsPerSec: string;
  counted: string;
  p50: string;
  p99: string;
  cmdsPerOp: string;
  nodeUs: string;
  redisUs: string;
  ratio: string;
  masters: string;
  spread: string;
  rounds: string;
}

const allColumns: [keyof Row, string][] = [
  ['variant', 'variant'],
  ['opsPerSec', 'ops/s'],
  ['counted', ''],
  ['p50', 'p50 ms'],
  ['p99', 'p99 ms'],
  ['cmdsPerOp', 'cmds/op'],
  ['nodeUs', 'node µs/op'],
  ['redisUs', 'redis µs/op'],
  ['ratio', 'ratio'],
  ['masters', 'per-master share'],
  ['spread', 'spread'],
  ['rounds', 'ops/s of each round'],
];

/** The columns of a scenario's tables: the `counted` one only when the scenario counts an outcome. */
function columnsOf(scenario: Scenario): [keyof Row, string][] {
  const { counted } = scenario;
  const columns = scenario.masterShare ? allColumns : allColumns.filter(([key]) => key !== 'masters');
  if (counted === undefined) return columns.filter(([key]) => key !== 'counted');
  return columns.map(([key, label]) => [key, key === 'counted' ? `${counted}/s (% of ops)` : label]);
}

/**
 * Each master's share of the commands, busiest first, then busiest ÷ least
 * busy: `100 / 0 / 0 %, max/min ∞`. A dash when the masters ran (almost) nothing.
 */
function masterShares(commands: readonly number[] | undefined, ops: number): string {
  if (!commands || commands.length === 0) return '';
  const sum = commands.reduce((total, calls) => total + Math.max(0, calls), 0);
  if (sum < ops / 100) return `— (${fixed(sum / ops)} cmds/op)`;
  const sorted = [...commands].sort((a, b) => b - a);
  const shares = sorted.map((calls) => Math.round((Math.max(0, calls) / sum) * 100)).join(' / ');
  const least = sorted.at(-1) ?? 0;
  return `${shares} %, max/min ${least > 0 ? `${((sorted[0] ?? 0) / least).toFixed(2)}` : '∞'}`;
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fixed = (value: number) => value.toFixed(2);

function rows(scenario: Scenario, topology: TopologyResult): Row[] {
  const baseline = topology.variants.find((variant) => variant.name === scenario.baseline);
  if (!baseline) throw new Error(`scenario ${scenario.name} has no baseline variant ${scenario.baseline}`);
  return topology.variants.map(({ name, median, rounds }) => ({
    variant: name === scenario.baseline ? `${name} (baseline)` : name,
    opsPerSec: integer.format(median.opsPerSec),
    counted:
      median.countedPerOp === undefined
        ? ''
        : `${integer.format(median.opsPerSec * median.countedPerOp)} (${(median.countedPerOp * 100).toFixed(1)}%)`,
    p50: fixed(median.p50Ms),
    p99: fixed(median.p99Ms),
    cmdsPerOp: fixed(median.cmdsPerOp),
    nodeUs: median.nodeUsPerOp.toFixed(1),
    redisUs: median.redisUsPerOp.toFixed(1),
    ratio: fixed(median.opsPerSec / baseline.median.opsPerSec),
    masters: masterShares(median.masterCommands, median.ops),
    spread: spreadOf(
      rounds.map((round) => round.opsPerSec),
      median.opsPerSec,
    ),
    rounds: rounds.map((round) => integer.format(round.opsPerSec)).join(' / '),
  }));
}

/** Prints one aligned table per topology of a scenario. */
export function printScenario({ scenario, topologies }: ScenarioResult): void {
  console.log(`\n${scenario.name}: ${scenario.title}`);
  const columns = columnsOf(scenario);
  for (const topology of topologies) {
    const table = rows(scenario, topology);
    const widths = columns.map(([key, label]) => Math.max(label.length, ...table.map((row) => row[key].length)));
    const line = (cells: string[]) =>
      cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[index] ?? 0)));
    console.log(`\n  ${topology.label}`);
    console.log(`  ${line(columns.map(([, label]) => label)).join('  ')}`);
    for (const row of table) console.log(`  ${line(columns.map(([key]) => row[key])).join('  ')}`);
  }
}

function markdownTable(scenario: Scenario, topology: TopologyResult): string {
  const table = rows(scenario, topology);
  const columns = columnsOf(scenario);
  const numeric = columns.map(([key]) => key !== 'variant');
  return [
    `| ${columns.map(([, label]) => label).join(' | ')} |`,
    `| ${numeric.map((right) => (right ? '---:' : '---')).join(' | ')} |`,
    ...table.map((row) => `| ${columns.map(([key]) => row[key]).join(' | ')} |`),
  ].join('\n');
}

function commandBreakdown(topology: TopologyResult): string {
  return topology.variants
    .map(({ name, median }) => {
      const parts = [...median.commands].map(([command, perOp]) => `${command.toUpperCase()} ${fixed(perOp)}`);
      return `\`${name}\`: ${parts.join(', ') || 'none'}`;
    })
    .join('; ');
}

const day = (date: Date) => date.toISOString().slice(0, 10);

/** A scenario section's marker, heading, description and "Measured …" line (`how`: what each round ran). */
export function sectionHead(
  scenario: { name: string; title: string; description: string },
  env: Environment,
  how: string,
): string[] {
  return [
    `<!-- scenario:${scenario.name} -->`,
    `## ${scenario.name}: ${scenario.title}`,
    '',
    scenario.description,
    '',
    `Measured ${day(env.date)} (redis-server ${env.redis}, ioredis ${env.ioredis}, Node ${env.node}): ${how}`,
  ];
}

function section({ scenario, options, topologies }: ScenarioResult, env: Environment): string {
  const parts = [
    ...sectionHead(
      scenario,
      env,
      `${integer.format(options.ops)} ops per variant and round after ${integer.format(options.warmup)} ` +
        `warm-up ops, ${options.concurrency} in flight, ${options.rounds} rounds; the median round is quoted.`,
    ),
  ];
  for (const topology of topologies) {
    parts.push(
      '',
      `### ${topology.label}`,
      '',
      markdownTable(scenario, topology),
      '',
      `Server-side calls per op: ${commandBreakdown(topology)}.`,
    );
  }
  parts.push(`<!-- /scenario:${scenario.name} -->`);
  return parts.join('\n');
}

function header(env: Environment): string {
  return [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/src/report.ts). A re-run rewrites the header and its scenario sections. -->',
    '',
    'Latest run on:',
    '',
    '| | |',
    '| --- | --- |',
    `| CPU | ${env.cpu} |`,
    `| Cores | ${env.cores} (shared by Node and every redis-server) |`,
    `| Node | ${env.node} |`,
    `| ioredis | ${env.ioredis} |`,
    `| redis-server | ${env.redis} |`,
    `| Date | ${day(env.date)} |`,
    '',
    '## Method',
    '',
    'Each scenario runs its variants against the same servers through one shared client, in one process. ' +
      'A closed loop keeps a fixed number of callers in flight; after an unmeasured warm-up it times a fixed ' +
      'number of operations with `process.hrtime.bigint()` and reports ops/s and p50/p99 latency. ' +
      'Each variant runs several rounds (5 by default; each section says how many), each starting with a different ' +
      'variant, and the median round (by ops/s) is quoted; ' +
      "`spread` is ± half the range of the rounds' ops/s, as a share of that median. " +
      'Commands per operation are `INFO commandstats` call deltas summed over every master (INFO and REPLCONF ' +
      'left out; on Redis 7 this includes the commands a script runs), and ratio is ops/s ÷ the baseline ' +
      "variant's ops/s. Node and Redis share the cores, so compare ratios within one run, not absolute figures. " +
      '`node µs/op` is the CPU time of the benchmark process per operation (`process.cpuUsage`: the library, ' +
      'ioredis and the loop) and `redis µs/op` that of the masters (`INFO cpu`, user + system); they are what ' +
      'each check costs, and they vary much less from run to run than ops/s does on a shared machine. ' +
      "redkit's driver writes the commands of one event-loop tick together, one socket write per connection " +
      'for every 16 commands, much as node-redis (which connect-redis and @keyv/redis run on) does; the ' +
      '`raw-ioredis` and `raw-evalsha` ' +
      'baselines call ioredis as most code does, one socket write per command, so a ratio above 1 is that ' +
      'batching, not less work.',
    '',
  ].join('\n');
}

const sectionPattern = /<!-- scenario:([\w-]+) -->[\s\S]*?<!-- \/scenario:\1 -->/g;

/**
 * Rewrites the header and the sections of the scenarios just run, keeping
 * other scenarios' sections (from earlier runs) where they were.
 */
export function writeDocs(
  path: URL,
  env: Environment,
  results: ScenarioResult[],
  throughputResults: readonly ThroughputScenarioResult[] = [],
  /** Sections written elsewhere (e.g. distribution scenarios), by scenario name. */
  otherSections: ReadonlyMap<string, string> = new Map(),
): void {
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const sections = new Map<string, string>();
  for (const match of existing.matchAll(sectionPattern)) sections.set(match[1] as string, match[0]);
  const summary = summarySection(existing, results, day(env.date));
  for (const result of results) sections.set(result.scenario.name, section(result, env));
  for (const result of throughputResults) sections.set(result.scenario.name, throughputSection(result, env));
  for (const [name, text] of otherSections) sections.set(name, text);
  writeFileSync(path, `${header(env)}\n${summary}\n\n${[...sections.values()].join('\n\n')}\n`);
}

/** A measured throughput run of one variant, with the server's command counts. */
export interface ThroughputVariantResult extends ThroughputTiming {
  /** Calls per message of each command, as counted by the servers. */
  readonly commands: Map<string, number>;
  readonly cmdsPerMessage: number;
  /** CPU time of this Node process per message, in µs. */
  readonly nodeUsPerMessage: number;
  /** CPU time of the Redis masters per message, in µs. */
  readonly redisUsPerMessage: number;
}

/** One throughput scenario's variants on one topology. */
export interface ThroughputTopologyResult {
  readonly label: string;
  readonly variants: VariantRounds<ThroughputVariantResult>[];
}

export interface ThroughputScenarioResult {
  readonly scenario: ThroughputScenario;
  readonly rounds: number;
  readonly topologies: ThroughputTopologyResult[];
}

const throughputColumns: [string, string][] = [
  ['variant', 'variant'],
  ['rate', 'msgs/s'],
  ['cmds', 'cmds/msg'],
  ['nodeUs', 'node µs/msg'],
  ['redisUs', 'redis µs/msg'],
  ['ratio', 'ratio'],
  ['rounds', 'msgs/s of each round'],
];

function throughputRows(scenario: ThroughputScenario, topology: ThroughputTopologyResult): Record<string, string>[] {
  const baseline = topology.variants.find((variant) => variant.name === scenario.baseline);
  if (!baseline) throw new Error(`scenario ${scenario.name} has no baseline variant ${scenario.baseline}`);
  return topology.variants.map(({ name, median, rounds }) => ({
    variant: name === scenario.baseline ? `${name} (baseline)` : name,
    rate: integer.format(median.opsPerSec),
    cmds: fixed(median.cmdsPerMessage),
    nodeUs: median.nodeUsPerMessage.toFixed(1),
    redisUs: median.redisUsPerMessage.toFixed(1),
    ratio: fixed(median.opsPerSec / baseline.median.opsPerSec),
    rounds: rounds.map((round) => integer.format(round.opsPerSec)).join(' / '),
  }));
}

/** Prints one aligned table per topology of a throughput scenario. */
export function printThroughputScenario({ scenario, topologies }: ThroughputScenarioResult): void {
  console.log(`\n${scenario.name}: ${scenario.title}`);
  for (const topology of topologies) {
    const table = throughputRows(scenario, topology);
    const widths = throughputColumns.map(([key, label]) =>
      Math.max(label.length, ...table.map((row) => (row[key] ?? '').length)),
    );
    const line = (cells: string[]) =>
      cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[index] ?? 0)));
    console.log(`\n  ${topology.label}`);
    console.log(`  ${line(throughputColumns.map(([, label]) => label)).join('  ')}`);
    for (const row of table) console.log(`  ${line(throughputColumns.map(([key]) => row[key] ?? '')).join('  ')}`);
  }
}

function throughputSection({ scenario, rounds, topologies }: ThroughputScenarioResult, env: Environment): string {
  const parts = [
    ...sectionHead(
      scenario,
      env,
      `${integer.format(scenario.messages)} messages per variant and round after ${integer.format(scenario.warmup)} ` +
        `warm-up messages, ${scenario.concurrency} in flight, ${rounds} rounds; the median round is quoted. ` +
        'Only moving the messages is timed (filling the stream before a consume run, and stopping workers after, ' +
        'are not); `cmds/msg` counts the server-side calls of the timed part.',
    ),
  ];
  for (const topology of topologies) {
    const table = throughputRows(scenario, topology);
    parts.push(
      '',
      `### ${topology.label}`,
      '',
      `| ${throughputColumns.map(([, label]) => label).join(' | ')} |`,
      `| ${throughputColumns.map(([key]) => (key === 'variant' ? '---' : '---:')).join(' | ')} |`,
      ...table.map((row) => `| ${throughputColumns.map(([key]) => row[key] ?? '').join(' | ')} |`),
      '',
      `Server-side calls per message: ${topology.variants
        .map(({ name, median }) => {
          const calls = [...median.commands].map(
            ([command, perMessage]) => `${command.toUpperCase()} ${fixed(perMessage)}`,
          );
          return `\`${name}\`: ${calls.join(', ') || 'none'}`;
        })
        .join('; ')}.`,
    );
  }
  parts.push(`<!-- /scenario:${scenario.name} -->`);
  return parts.join('\n');
}
