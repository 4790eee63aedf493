// After the test run: no redis-server or valkey-server started by the harness
// may still run, no harness container may exist and no harness directory may
// remain. Silent when clean, so the test summary stays
// the last line CI prints; exits 1 and lists what it found otherwise.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

// The reaper of a finished test process needs a moment to clean up.
await new Promise((resolve) => setTimeout(resolve, 1_000));

const dirs = readdirSync(tmpdir()).filter((name) => name.startsWith('redkit-redis-'));
const processes = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
  .split('\n')
  .filter((line) => /(redis|valkey)-server/.test(line))
  .filter((line) => {
    // Harness servers listen on 20000–31999; a system Redis (e.g. 6379) is not ours.
    const port = Number(/:(\d+)/.exec(line)?.[1]);
    return port >= 20_000 && port < 32_000;
  });

// Containers of the docker backend carry this label (packages/testing/src/docker-node.ts).
let containers = [];
try {
  containers = execFileSync('docker', ['ps', '--all', '--quiet', '--filter', 'label=dev.redkit.harness'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .split('\n')
    .filter(Boolean);
} catch {
  // No docker CLI or engine: no container can have been started.
}

if (dirs.length > 0 || processes.length > 0 || containers.length > 0) {
  console.error('left behind by the test run:');
  for (const line of processes) console.error(`  process ${line.trim()}`);
  for (const id of containers) console.error(`  container ${id}`);
  for (const dir of dirs) console.error(`  directory ${tmpdir()}/${dir}`);
  process.exit(1);
}
