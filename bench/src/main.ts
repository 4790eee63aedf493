import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { driverFor, type RedisConnection } from '@redkit/core';
import { startCluster, startStandalone } from '@redkit/testing';
import { perOperation, readCommandCounts, readCommandsPerMaster, readServerCpuSeconds, total } from './commandstats.js';
import {
  type DistributionResult,
  distributionSection,
  printDistribution,
  runDistributionScenario,
} from './distribution.js';
import {
  type Environment,
  printScenario,
  printThroughputScenario,
  type ScenarioResult,
  type ThroughputScenarioResult,
  type ThroughputTopologyResult,
  type TopologyResult,
  writeDocs,
} from './report.js';
import { type LoopOptions, measure, measureThroughput, runRounds } from './runner.js';
import type {
  AnyScenario,
  DistributionScenario,
  Scenario,
  Target,
  ThroughputScenario,
  ThroughputVariant,
} from './scenario.js';
import { scenarios } from './scenarios/index.js';

const usage = `Usage: npm run bench -- [options]

  --scenario <name>    run only this scenario (repeatable); one of: ${[...scenarios.keys()].join(', ')}
  --ops <n>            measured operations per variant and round (default 50000; throughput scenarios: their own count)
  --warmup <n>         unmeasured operations before each variant's measured ones, every round (default 2000)
  --concurrency <n>    callers in flight (default 64; throughput scenarios: their own)
  --rounds <n>         rounds per variant; the median round is quoted (default 5)
  --cluster            also run against a 3-master, 3-replica cluster
  --no-write           print the tables only; leave docs/benchmarks.md alone
  --help`;

const docsPath = new URL('../../docs/benchmarks.md', import.meta.url);

function positiveInteger(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a whole number ≥ 1, got ${text}`);
  return value;
}

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', multiple: true },
      ops: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      cluster: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const names = values.scenario ?? [...scenarios.keys()];
  const selected = names.map((name) => {
    const scenario = scenarios.get(name);
    if (!scenario) throw new Error(`unknown scenario ${JSON.stringify(name)}\n\n${usage}`);
    return scenario;
  });
  const loop: LoopOptions = {
    ops: positiveInteger(values.ops, 50_000, '--ops'),
    warmup: positiveInteger(values.warmup, 2_000, '--warmup'),
    concurrency: positiveInteger(values.concurrency, 64, '--concurrency'),
    rounds: positiveInteger(values.rounds, 5, '--rounds'),
  };
  return { help: values.help, selected, loop, cluster: values.cluster, write: !values['no-write'] };
}

async function runScenario(scenario: Scenario, target: Target, label: string, loop: LoopOptions) {
  const variants = scenario.variants(target);
  for (const variant of variants) await variant.setup?.();
  const measured = await runRounds(variants, loop.rounds, (variant) =>
    measure(variant.run, loop, async (timed) => {
      // Counted around the measured part only: warm-up and setup calls stay out.
      const before = await readCommandCounts(target.redis);
      const mastersBefore = scenario.masterShare ? await readCommandsPerMaster(target.redis) : undefined;
      const serverCpuBefore = await readServerCpuSeconds(target.redis);
      const countedBefore = variant.count?.() ?? 0;
      const nodeCpuBefore = process.cpuUsage();
      const timing = await timed();
      const nodeCpu = process.cpuUsage(nodeCpuBefore);
      const countedPerOp = variant.count ? (variant.count() - countedBefore) / timing.ops : undefined;
      const serverCpu = (await readServerCpuSeconds(target.redis)) - serverCpuBefore;
      const after = await readCommandCounts(target.redis);
      const mastersAfter = mastersBefore && (await readCommandsPerMaster(target.redis));
      const commands = perOperation(before, after, timing.ops);
      console.error(`  ${label} ${scenario.name} ${variant.name}: ${Math.round(timing.opsPerSec)} ops/s`);
      return {
        ...timing,
        commands,
        cmdsPerOp: total(commands),
        nodeUsPerOp: (nodeCpu.user + nodeCpu.system) / timing.ops,
        redisUsPerOp: (serverCpu * 1e6) / timing.ops,
        countedPerOp,
        ...(mastersBefore && mastersAfter
          ? { masterCommands: mastersAfter.map((calls, index) => calls - (mastersBefore[index] ?? 0)) }
          : {}),
      };
    }),
  );
  return { label, variants: measured } satisfies TopologyResult;
}

async function runThroughputScenario(scenario: ThroughputScenario, target: Target, label: string, rounds: number) {
  const variants = scenario.variants(target);
  try {
    for (const variant of variants) await variant.setup?.();
    return await measureThroughputRounds(scenario, variants, target, label, rounds);
  } finally {
    for (const variant of variants) await variant.teardown?.();
  }
}

async function measureThroughputRounds(
  scenario: ThroughputScenario,
  variants: ThroughputVariant[],
  target: Target,
  label: string,
  rounds: number,
) {
  const measured = await runRounds(variants, rounds, async (variant) => {
    // Every round warms its variant up again (as the closed loop does), so no variant profits from running later.
    await measureThroughput(variant, scenario.warmup, (timed) => timed());
    return measureThroughput(variant, scenario.messages, async (timed) => {
      const before = await readCommandCounts(target.redis);
      const serverCpuBefore = await readServerCpuSeconds(target.redis);
      const nodeCpuBefore = process.cpuUsage();
      const timing = await timed();
      const nodeCpu = process.cpuUsage(nodeCpuBefore);
      const serverCpu = (await readServerCpuSeconds(target.redis)) - serverCpuBefore;
      const after = await readCommandCounts(target.redis);
      const commands = perOperation(before, after, timing.messages);
      console.error(`  ${label} ${scenario.name} ${variant.name}: ${Math.round(timing.opsPerSec)} msgs/s`);
      return {
        ...timing,
        commands,
        cmdsPerMessage: total(commands),
        nodeUsPerMessage: (nodeCpu.user + nodeCpu.system) / timing.messages,
        redisUsPerMessage: (serverCpu * 1e6) / timing.messages,
      };
    });
  });
  return { label, variants: measured } satisfies ThroughputTopologyResult;
}

const isThroughput = (scenario: AnyScenario): scenario is ThroughputScenario =>
  'kind' in scenario && scenario.kind === 'throughput';
const isDistribution = (scenario: AnyScenario): scenario is DistributionScenario =>
  'kind' in scenario && scenario.kind === 'distribution';

async function redisVersion(redis: RedisConnection): Promise<string> {
  const info = String(await driverFor(redis).command('INFO', ['server']));
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}

function ioredisVersion(): string {
  const path = createRequire(import.meta.url).resolve('ioredis/package.json');
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** Starts one topology, hands out its client, and always stops its servers. */
async function withServers<T>(
  topology: Target['topology'],
  commandTimeout: number,
  use: (redis: RedisConnection) => Promise<T>,
) {
  const servers = topology === 'standalone' ? await startStandalone() : await startCluster({ masters: 3 });
  try {
    return await use(servers.client({ commandTimeout }));
  } finally {
    await servers.stop();
  }
}

async function main(): Promise<void> {
  const { help, selected, loop, cluster, write } = parseCommandLine();
  if (help) {
    console.log(usage);
    return;
  }
  const closedLoop = selected.filter(
    (scenario): scenario is Scenario => !isThroughput(scenario) && !isDistribution(scenario),
  );
  const throughput = selected.filter(isThroughput);
  const distributions = new Map<DistributionScenario, DistributionResult['topologies']>(
    selected.filter(isDistribution).map((scenario) => [scenario, []]),
  );
  const byScenario = new Map<Scenario, TopologyResult[]>(closedLoop.map((scenario) => [scenario, []]));
  const byThroughput = new Map<ThroughputScenario, ThroughputTopologyResult[]>(
    throughput.map((scenario) => [scenario, []]),
  );
  const topologies: { topology: Target['topology']; label: string }[] = [
    { topology: 'standalone', label: 'standalone' },
    ...(cluster ? [{ topology: 'cluster' as const, label: 'cluster (3 masters + 3 replicas)' }] : []),
  ];
  // connect()'s default 2 s unless a scenario needs longer: a bound only fails the run when reached, it changes no figure.
  const commandTimeout = Math.max(2_000, ...closedLoop.map((scenario) => scenario.commandTimeoutMs ?? 0));
  let redis = 'unknown';
  // One topology at a time: idle servers of the other would still share the 2 cores.
  for (const { topology, label } of topologies) {
    await withServers(topology, commandTimeout, async (client) => {
      if (topology === 'standalone') redis = await redisVersion(client);
      for (const scenario of selected) {
        const target: Target = { topology, redis: client };
        if (isDistribution(scenario)) {
          distributions.get(scenario)?.push(await runDistributionScenario(scenario, target, label));
        } else if (isThroughput(scenario)) {
          byThroughput.get(scenario)?.push(await runThroughputScenario(scenario, target, label, loop.rounds));
        } else {
          byScenario.get(scenario)?.push(await runScenario(scenario, target, label, loop));
        }
      }
    });
  }

  const results: ScenarioResult[] = [...byScenario].map(([scenario, topologies]) => ({
    scenario,
    options: loop,
    topologies,
  }));
  const throughputResults: ThroughputScenarioResult[] = [...byThroughput].map(([scenario, topologies]) => ({
    scenario,
    rounds: loop.rounds,
    topologies,
  }));
  for (const result of results) printScenario(result);
  for (const result of throughputResults) printThroughputScenario(result);
  const distributionResults = [...distributions].map(([scenario, topologies]) => ({ scenario, topologies }));
  for (const result of distributionResults) printDistribution(result);
  if (!write) return;
  const env: Environment = {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    ioredis: ioredisVersion(),
    redis,
    date: new Date(),
  };
  writeDocs(
    docsPath,
    env,
    results,
    throughputResults,
    new Map(distributionResults.map((result) => [result.scenario.name, distributionSection(result, env)])),
  );
  // The tables are written unaligned; the project's formatter aligns them, so `npm run check` stays green.
  const biome = new URL('../../node_modules/.bin/biome', import.meta.url).pathname;
  execFileSync(biome, ['format', '--write', docsPath.pathname], { stdio: 'ignore' });
  console.log(`\nwrote ${docsPath.pathname}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
