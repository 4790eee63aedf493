import { type Environment, sectionHead } from './report.js';
import type { DistributionScenario, Target } from './scenario.js';

/** One variant's samples on one topology. */
interface DistributionRow {
  readonly variant: string;
  readonly samples: readonly number[];
  readonly lost: number;
}

/** One distribution scenario on every topology it ran on. */
export interface DistributionResult {
  readonly scenario: DistributionScenario;
  readonly topologies: { readonly label: string; readonly rows: readonly DistributionRow[] }[];
}

/** Runs every variant's samples one after another (one sample in flight: each is a latency, not a load). */
export async function runDistributionScenario(
  scenario: DistributionScenario,
  target: Target,
  label: string,
): Promise<DistributionResult['topologies'][number]> {
  const variants = scenario.variants(target);
  const rows: DistributionRow[] = [];
  try {
    for (const variant of variants) await variant.setup?.();
    for (const variant of variants) {
      const samples: number[] = [];
      let lost = 0;
      for (let i = 0; i < scenario.samples; i++) {
        const figure = await variant.sample(i);
        if (figure === undefined) lost++;
        else samples.push(figure);
      }
      console.error(`  ${label} ${scenario.name} ${variant.name}: ${samples.length} samples, ${lost} lost`);
      rows.push({ variant: variant.name, samples: samples.sort((a, b) => a - b), lost });
    }
  } finally {
    for (const variant of variants) await variant.teardown?.();
  }
  return { label, rows };
}

/** The nearest-rank percentile of sorted samples. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const columns = ['variant', 'samples', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'lost'];

function cells(row: DistributionRow): string[] {
  const ms = (value: number) => value.toFixed(2);
  const { samples } = row;
  return [
    row.variant,
    String(samples.length + row.lost),
    ms(percentile(samples, 50)),
    ms(percentile(samples, 90)),
    ms(percentile(samples, 99)),
    ms(samples.at(-1) ?? Number.NaN),
    String(row.lost),
  ];
}

export function printDistribution({ scenario, topologies }: DistributionResult): void {
  console.log(`\n${scenario.name}: ${scenario.title}`);
  for (const topology of topologies) {
    console.log(`\n  ${topology.label}`);
    console.log(`  ${columns.join('  ')}`);
    for (const row of topology.rows) console.log(`  ${cells(row).join('  ')}`);
  }
}

/** The scenario's docs/benchmarks.md section. */
export function distributionSection({ scenario, topologies }: DistributionResult, env: Environment): string {
  const parts = sectionHead(
    scenario,
    env,
    `${scenario.samples} samples per variant, one at a time; percentiles by nearest rank, max is the largest sample.`,
  );
  for (const topology of topologies) {
    parts.push(
      '',
      `### ${topology.label}`,
      '',
      `| ${columns.join(' | ')} |`,
      `| --- | ${columns
        .slice(1)
        .map(() => '---:')
        .join(' | ')} |`,
      ...topology.rows.map((row) => `| ${cells(row).join(' | ')} |`),
    );
  }
  parts.push(`<!-- /scenario:${scenario.name} -->`);
  return parts.join('\n');
}
