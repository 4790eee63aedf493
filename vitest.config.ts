import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vitest/config';
import { expandLuaIncludes } from './scripts/lua-include.js';

const root = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Tests run against the TypeScript sources, not the built packages. */
const sourceAliases = [
  { find: /^@redkit\/core$/, replacement: root('packages/core/src/index.ts') },
  { find: /^@redkit\/core\/otel$/, replacement: root('packages/core/src/otel.ts') },
  { find: /^@redkit\/cache$/, replacement: root('packages/cache/src/index.ts') },
  { find: /^@redkit\/cache\/keyv$/, replacement: root('packages/cache/src/keyv.ts') },
  { find: /^@redkit\/geo$/, replacement: root('packages/geo/src/index.ts') },
  { find: /^@redkit\/hotkeys$/, replacement: root('packages/hotkeys/src/index.ts') },
  { find: /^@redkit\/leaderboard$/, replacement: root('packages/leaderboard/src/index.ts') },
  { find: /^@redkit\/lock$/, replacement: root('packages/lock/src/index.ts') },
  { find: /^@redkit\/lock\/(redlock)$/, replacement: root('packages/lock/src/$1.ts') },
  { find: /^@redkit\/queue$/, replacement: root('packages/queue/src/index.ts') },
  { find: /^@redkit\/queue\/bullmq$/, replacement: root('packages/queue/src/bullmq.ts') },
  { find: /^@redkit\/ratelimit$/, replacement: root('packages/ratelimit/src/index.ts') },
  { find: /^@redkit\/ratelimit\/(express|fastify|nest)$/, replacement: root('packages/ratelimit/src/$1.ts') },
  { find: /^@redkit\/session$/, replacement: root('packages/session/src/index.ts') },
  { find: /^@redkit\/session\/(express|fastify)$/, replacement: root('packages/session/src/$1.ts') },
  { find: /^@redkit\/testing$/, replacement: root('packages/testing/src/index.ts') },
  { find: /^@redkit\/testing\/vitest$/, replacement: root('packages/testing/src/vitest.ts') },
  { find: /^@redkit\/testing\/contracts$/, replacement: root('packages/testing/src/contracts/index.ts') },
];

/**
 * `REDKIT_TEST_IOREDIS=5` runs the suite on ioredis 5 (installed as `ioredis5`)
 * instead of 6: both majors are in the peer range, and 6 speaks RESP3 by default.
 */
const ioredisMajor = process.env.REDKIT_TEST_IOREDIS ?? '6';
if (ioredisMajor !== '5' && ioredisMajor !== '6') throw new Error('REDKIT_TEST_IOREDIS must be 5 or 6');
const ioredisAlias = ioredisMajor === '5' ? [{ find: /^ioredis$/, replacement: 'ioredis5' }] : [];

/**
 * Imports `.lua` files as text with their `-- @include x.lua` lines expanded,
 * as the build does (the same scripts/lua-include.ts as tsup.base.ts).
 */
const luaAsText: Plugin = {
  name: 'lua-as-text',
  transform(code, id) {
    if (!id.endsWith('.lua')) return null;
    const { source, includes } = expandLuaIncludes(id, code);
    for (const file of includes) this.addWatchFile(file);
    return { code: `export default ${JSON.stringify(source)};`, map: null };
  },
};

/**
 * Type tests (`*.test-d.ts`) run tsc and never touch Redis: CI's server and
 * client matrix passes set `REDKIT_TYPE_TESTS=skip` rather than repeat them.
 */
const typeTests = process.env.REDKIT_TYPE_TESTS !== 'skip';

const packages = ['core', 'testing', 'ratelimit', 'lock', 'leaderboard', 'geo', 'session', 'cache', 'queue', 'hotkeys'];

/**
 * What every project shares. Not inherited with `extends: true`, because
 * that would give each of the 13 projects its own global setup: its own
 * standalone server, Sentinel setup and cluster (150 servers at once).
 * The global setup runs once, in the root project, and vitest hands what it
 * provides to every project.
 */
const shared = {
  plugins: [luaAsText],
  resolve: { alias: [...sourceAliases, ...ioredisAlias] },
};
const sharedTest = {
  pool: 'forks' as const,
  setupFiles: [root('packages/testing/test/slot-guard.ts')],
  // CI runs every test of every pass on 2 shared cores; a test that fails
  // there is run once more, and the summary names each one that needed it
  // (a flaky test to fix, not a pass to trust). Locally a failure is final.
  retry: process.env.CI ? 1 : 0,
  testTimeout: 30_000,
  hookTimeout: 60_000,
};
const project = (name: string, include: string[], typecheckInclude?: string[]) => ({
  ...shared,
  test: {
    ...sharedTest,
    name,
    include,
    ...(typecheckInclude ? { typecheck: { enabled: typeTests, include: typecheckInclude } } : {}),
  },
});

export default defineConfig({
  ...shared,
  test: {
    ...sharedTest,
    // Most test time is spent waiting on Redis (failovers, expiries, timeouts),
    // not on the CPU: 3 files at a time on 2 cores cut a pass by ~40% with the
    // same results (vitest's default here would be 1).
    maxWorkers: 3,
    globalSetup: [root('packages/testing/test/global-setup.ts')],
    reporters: ['default', root('scripts/summary-reporter.ts')],
    projects: [
      ...packages.map((name) =>
        project(name, [`packages/${name}/test/**/*.test.ts`], [`packages/${name}/test/**/*.test-d.ts`]),
      ),
      // Every example's smoke test, against the sources like the package tests.
      project('examples', ['examples/*/test/**/*.test.ts']),
      // Every ```ts block of docs/*.md and the package READMEs, type-checked against the sources.
      project('docs', ['test/docs/**/*.test.ts']),
      // The built tarballs, installed into a throwaway project (run after `npm run build`).
      project('packaging', ['test/packaging/**/*.test.ts']),
    ],
  },
});
