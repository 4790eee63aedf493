import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testServer } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';

/**
 * Runs the quick start of every package README exactly as written, against the
 * built packages (as a user who installed them would), so the docs cannot rot.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const scratch = join(repoRoot, '.tmp');
const run = promisify(execFile);

function quickStart(readme: string): string | undefined {
  const section = readme.split(/^## /m).find((part) => part.startsWith('Quick start'));
  return section ? /```ts\n([\s\S]*?)```/.exec(section)?.[1] : undefined;
}

const packagesDir = join(repoRoot, 'packages');
const readmes = readdirSync(packagesDir)
  .map((name) => ({ name, path: join(packagesDir, name, 'README.md') }))
  .filter(({ path }) => {
    try {
      readFileSync(path);
      return true;
    } catch {
      return false;
    }
  });

describe('README quick starts', () => {
  it.each(readmes)('$name runs as written', async ({ name, path }) => {
    const code = quickStart(readFileSync(path, 'utf8'));
    expect(code, `${path} has a "## Quick start" section with a ts block`).toBeDefined();
    mkdirSync(scratch, { recursive: true });
    // tsx would otherwise find the root tsconfig.json and its paths to the sources.
    writeFileSync(join(scratch, 'tsconfig.json'), '{}\n');
    const file = join(scratch, `quick-start-${name}.mts`);
    writeFileSync(file, code as string);
    // Outside any tsconfig, so @redkit/* resolve to the built packages like an install would.
    const { stderr } = await run(join(repoRoot, 'node_modules', '.bin', 'tsx'), [file], {
      cwd: scratch,
      env: { ...process.env, REDIS_URL: testServer('standalone').url },
      timeout: 60_000,
    });
    expect(stderr).toBe('');
  });
});
