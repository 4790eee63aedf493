// Adds up the counts that each test pass of .ci/run wrote (scripts/summary-reporter.ts)
// and prints them per pass and per topology, then the one closing line CI reads:
// "N passed, N failed" over every pass. A pass that wrote no counts failed to run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const expected = ['redis-7.0', 'valkey-8', 'docker+ioredis-5'];
const total = { passed: 0, failed: 0, skipped: 0 };
const found = new Set(readdirSync(dir).map((name) => name.replace(/\.json$/, '')));
console.log('\ntest passes:');
for (const label of [...expected, ...[...found].filter((name) => !expected.includes(name))]) {
  if (!found.has(label)) {
    console.log(`  ${label}: no counts (the pass did not finish)`);
    total.failed++;
    continue;
  }
  const counts = JSON.parse(readFileSync(join(dir, `${label}.json`), 'utf8'));
  total.passed += counts.passed;
  total.failed += counts.failed;
  total.skipped += counts.skipped;
  const topologies = Object.entries(counts.byTopology)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  const retried = counts.retried?.length ? `; ${counts.retried.length} passed only on a retry (listed above)` : '';
  console.log(
    `  ${label}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (${topologies})${retried}`,
  );
}
console.log(`\n${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
process.exit(total.failed > 0 ? 1 : 0);
