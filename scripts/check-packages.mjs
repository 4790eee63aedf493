// Checks every publishable package as it would be published: publint for the
// package.json/exports layout, @arethetypeswrong for types under both import
// and require. Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const packagesDir = new URL('../packages/', import.meta.url).pathname;
const bin = (name) => join(packagesDir, '..', 'node_modules', '.bin', name);
let failed = false;

for (const name of readdirSync(packagesDir).sort()) {
  const dir = join(packagesDir, name);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  if (manifest.private) continue;
  for (const [tool, args] of [
    ['publint', ['--strict', dir]],
    ['attw', ['--pack', dir, '--profile', 'node16', '--format', 'table-flipped']],
  ]) {
    process.stdout.write(`\n== ${tool} ${manifest.name}\n`);
    try {
      execFileSync(bin(tool), args, { stdio: 'inherit' });
    } catch {
      failed = true;
      process.stdout.write(`!! ${tool} failed for ${manifest.name}\n`);
    }
  }
}
process.exit(failed ? 1 : 0);
