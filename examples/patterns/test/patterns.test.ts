import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testServer } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';

/**
 * Runs every example in src/ as a user would (`npx tsx src/<name>.ts` in this
 * directory, whose tsconfig has no paths: @redkit/* are the built packages, so
 * `npm run build` must have run, as `npm test` does first), against the
 * harness's standalone Redis. Each must exit 0, print nothing on stderr, and
 * print the lines that show its pattern worked.
 */
const here = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const run = promisify(execFile);

const expected: Record<string, (string | RegExp)[]> = {
  'cache-aside.ts': [
    '20 concurrent requests, loader ran 1 time(s): Product 1',
    'after a cache hit, loader ran 1 time(s)',
    'after an invalidation, loader ran 2 time(s)',
  ],
  'geo.ts': ['ana (Zoe) 0.43 km away', 'cho (Clio) 1.15 km away', 'ana to ben: 4.23 km'],
  'leaderboard.ts': ['dee: score 1000, rank 3', 'top 3: 1. ana 1200, 2. cho 1200, 3. dee 1000'],
  'lock.ts': [
    '5 workers ran, at most 1 at a time',
    'fencing tokens increase: true',
    'while held, tryAcquire gives null',
    'release: released',
  ],
  'rate-limit-fixed-window.ts': ['request 3: allowed, 0 left', /^request 4: denied, 0 left, retry in \d+ s$/m],
  'rate-limit-sliding-window.ts': ['request 3: allowed, 0 left', 'request 4: denied, 0 left', 'peek: would be denied'],
  'rate-limit-token-bucket.ts': [
    'export (cost 3): allowed, 2 left',
    'request 2: allowed',
    /^request 3: denied, a token refills in \d+ ms$/m,
  ],
  'session.ts': [
    'laptop session of user-42: cart ["sku-1"]',
    'user-42 has 2 sessions',
    'logged out 2 sessions',
    'phone session after logout: null',
  ],
  'sharded-counter.ts': ['views: 105 over 8 keys'],
  'stream-worker.ts': [/^processed: .*b\.png \(attempt 2\)/m, 'pending 0, dead letters 0'],
};

const examples = readdirSync(new URL('../src', import.meta.url)).filter((name) => name.endsWith('.ts'));

describe('pattern examples', () => {
  it('every example in src/ has expectations here', () => {
    expect(examples.sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(examples)('%s runs as written', async (name) => {
    const { stdout, stderr } = await run(tsx, [`src/${name}`], {
      cwd: here,
      env: { ...process.env, REDIS_URL: testServer('standalone').url },
      timeout: 30_000,
    });
    expect(stderr).toBe('');
    const lines = stdout.split('\n');
    for (const line of expected[name] ?? []) {
      if (typeof line === 'string') expect(lines, stdout).toContain(line);
      else expect(stdout).toMatch(line);
    }
  });
});
