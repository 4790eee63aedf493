import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

/** Counts of one run, as `.ci/run` adds them up over its passes. */
export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** Tests that ran (passed or failed) per topology named in their `[topology]` suite, or `other`. */
  byTopology: Record<string, number>;
  /** Tests that passed only when run again (CI's `retry`): flaky, to be fixed. */
  retried: string[];
}

const topologyTag = /\[(standalone|cluster|sentinel)\]/;

/**
 * Ends the run with one plain line, `N passed, N failed`, which CI reads to
 * know how many tests ran. Skipped tests are counted separately. Before it, a
 * line with the count per topology (from `describeTopologies`' suite names).
 * With `REDKIT_SUMMARY_FILE` set, the counts are also written there as JSON,
 * so `.ci/run` can add up its passes.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[], unhandledErrors: readonly unknown[]): void {
    const counts: RunCounts = { passed: 0, failed: 0, skipped: 0, byTopology: {}, retried: [] };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') {
          counts.passed++;
          if ((test.diagnostic()?.retryCount ?? 0) > 0) counts.retried.push(`${module.moduleId}: ${test.fullName}`);
        } else if (state === 'failed') counts.failed++;
        else {
          counts.skipped++;
          continue;
        }
        const topology = topologyTag.exec(test.fullName)?.[1] ?? 'other';
        counts.byTopology[topology] = (counts.byTopology[topology] ?? 0) + 1;
      }
      // A file that failed to load has no tests but must still count as a failure.
      if (module.state() === 'failed' && module.children.size === 0) counts.failed++;
    }
    counts.failed += unhandledErrors.length;
    const file = process.env.REDKIT_SUMMARY_FILE;
    if (file) writeFileSync(file, JSON.stringify(counts));
    const perTopology = Object.entries(counts.byTopology)
      .map(([topology, count]) => `${topology} ${count}`)
      .join(', ');
    for (const name of counts.retried) process.stdout.write(`\npassed only on a retry (flaky): ${name}`);
    process.stdout.write(`\ntests per topology: ${perTopology || 'none'}\n`);
    process.stdout.write(
      `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}\n`,
    );
  }
}
