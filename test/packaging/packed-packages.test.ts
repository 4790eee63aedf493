import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installProject, packTarballs, repoRoot } from './packed.js';

/**
 * Installs the packed tarballs into a throwaway project outside the workspace,
 * as a user would after `npm install`, and loads them with both `import` and
 * `require`. Needs the packages built (`npm test` builds first).
 */
const packages = [
  '@redkit/core',
  '@redkit/testing',
  '@redkit/ratelimit',
  '@redkit/lock',
  '@redkit/leaderboard',
  '@redkit/geo',
  '@redkit/session',
  '@redkit/cache',
  '@redkit/queue',
  '@redkit/hotkeys',
];
const ioredisVersion = '6.0.0';
/** Optional peers a user installs for the subpaths the program loads. */
const peers = { bullmq: '5.81.5', zod: '4.6.7' };

let work: string;
let app: string;

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'redkit-packed-'));
  const tarballs = await packTarballs(work, packages);
  expect([...tarballs.keys()].sort()).toEqual([...packages].sort());
  app = join(work, 'app');
  await installProject(app, { ioredis: ioredisVersion, '@opentelemetry/api': '1.10.0', ...peers }, tarballs);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** What the user program does with the packages, in either module system. */
const program = (load: string) => `
${load}
const server = await testing.startStandalone();
try {
  const redis = core.connect(server.url);
  const keys = new core.Keyspace('packed');
  const script = core.defineScript('add-one', "-- add-one: increments\\n-- KEYS[1] counter\\n-- Reply: the count\\nreturn redis.call('INCR', KEYS[1])");
  const first = await core.driverFor(redis).script(script, [keys.key('s', 'n')], []);
  const second = await core.driverFor(redis).script(script, [keys.key('s', 'n')], []);
  let invalid = '';
  try { core.connect({ url: server.url, commandTimeout: 'soon' }); } catch (error) { invalid = error.name; }
  const limiter = new ratelimit.RateLimiter({ redis, namespace: 'packed', policies: [{ algorithm: 'fixed-window', limit: 1, window: '1m' }] });
  const detach = otel.instrument(limiter.events, { tracer: true });
  const limited = [(await limiter.limit('u')).allowed, (await limiter.limit('u')).allowed];
  detach();
  const mutex = new lock.Mutex({ redis, namespace: 'packed' });
  const held = await mutex.acquire('r');
  const locked = [typeof held.fencingToken, await mutex.tryAcquire('r'), await held.release()];
  await mutex.close();
  // The Redlock subpath (one instance is a quorum of 1), throwing the main entry's error classes.
  const quorum = new redlock.RedlockMutex({ clients: [redis], namespace: 'packed-redlock' });
  const quorumLock = await quorum.acquire('r');
  const busy = await quorum.acquire('r', { wait: 0 }).catch((error) => error);
  const redlocked = [quorumLock.fencingToken, await quorum.tryAcquire('r'), busy instanceof lock.LockBusyError, redlock.QuorumUnavailableError === lock.QuorumUnavailableError, await quorumLock.release()];
  await quorum.close();
  const board = new leaderboard.Leaderboard({ redis, namespace: 'packed', name: 'board' });
  await board.submit('first', 2);
  await board.submit('second', 2);
  const ranked = (await board.top(2)).map((entry) => entry.member + ':' + entry.rank);
  const outOfRange = await board.submit('huge', 2 ** 40).catch((error) => error.code);
  const places = new geo.GeoIndex({ redis, namespace: 'packed', name: 'places' });
  await places.add('louvre', { lon: 2.3376, lat: 48.8606 });
  await places.add('orsay', { lon: 2.3266, lat: 48.8600 });
  const nearby = (await places.near({ lon: 2.3376, lat: 48.8606 }, { radius: 1, unit: 'km' })).map((result) => result.member);
  const sessions = new session.SessionStore({ redis, namespace: 'packed' });
  const login = await sessions.create('user', { cart: ['a'] });
  const sessionRead = [(await sessions.get(login.id, { touch: true })).data.cart[0], (await sessions.list('user')).length, await sessions.destroyAll('user'), await sessions.get(login.id)];
  const products = new cache.Cache({ redis, namespace: 'packed' });
  let loads = 0;
  const cached = [await products.getOrSet('p', async () => (loads++, 'P')), await products.getOrSet('p', async () => (loads++, 'Q')), loads];
  await products.close();
  const jobs = new queue.StreamQueue({ redis, namespace: 'packed', stream: 'jobs' });
  const job = await jobs.add({ n: 1 }, { idempotencyKey: 'k' });
  const jobAgain = await jobs.add({ n: 1 }, { idempotencyKey: 'k' });
  let worker;
  const handled = await new Promise((resolve) => { worker = jobs.consume(async (message, context) => resolve([message.n, context.attempt]), { group: 'g', blockMs: 50 }); });
  const queued = [jobAgain.duplicate, jobAgain.id === job.id, ...handled, (await worker.stop()).unfinished];
  const counter = new hotkeys.ShardedCounter({ redis, namespace: 'packed', name: 'views', shards: 3 });
  await Promise.all([counter.increment(), counter.increment(2), counter.increment(3)]);
  const counted = [await counter.value(), hotkeys.spreadTags('k', 3).length];
  // The BullMQ subpath: a typed job checked on add (nothing sent) and run by a real Worker.
  const mailJobs = { mail: bullmq.defineJob({ data: zod.z.object({ to: zod.z.string() }), result: zod.z.number() }) };
  const mailQueue = new bullmq.TypedQueue({ redis, namespace: 'packed', name: 'mail', jobs: mailJobs });
  const rejected = await mailQueue.add('mail', { to: 1 }).catch((error) => error.name);
  let mailWorker;
  const mailed = new Promise((resolve) => {
    mailWorker = new bullmq.TypedWorker({ redis, namespace: 'packed', name: 'mail', jobs: mailJobs, handlers: { mail: async ({ to }) => to.length } });
    mailWorker.events.on('completed', (event) => resolve(event));
  });
  await mailQueue.add('mail', { to: 'ada' });
  await mailed;
  await mailWorker.close();
  await mailQueue.close();
  const typedJobs = [rejected];
  // Error classes report new.target.name: a bundler rename would show here.
  const misnamed = [core, testing, ratelimit, lock, redlock, leaderboard, geo, session, cache, queue, bullmq, hotkeys].flatMap((exports) =>
    Object.entries(exports).filter(([key, value]) => key.endsWith('Error') && typeof value === 'function' && value.name !== key).map(([key, value]) => key + ' is ' + value.name));
  console.log(JSON.stringify({ first, second, invalid, ms: core.parseDuration('1.5s'), limited, locked, redlocked: redlocked.map((value) => value ?? 'none'), ranked, outOfRange, nearby, sessionRead, cached, queued, counted, typedJobs, misnamed }));
  redis.disconnect();
} finally {
  await server.stop();
}
`;

describe('packed packages in a fresh project', () => {
  const expected = {
    first: 1,
    second: 2,
    invalid: 'InvalidOptionsError',
    ms: 1500,
    limited: [true, false],
    locked: ['bigint', null, 'released'],
    redlocked: ['none', 'none', true, true, 'released'],
    ranked: ['first:1', 'second:2'],
    outOfRange: 'E_SCORE_RANGE',
    nearby: ['louvre', 'orsay'],
    sessionRead: ['a', 1, 1, null],
    cached: ['P', 'P', 1],
    queued: [true, true, 1, 1, 0],
    counted: [6, 3],
    typedJobs: ['InvalidOptionsError'],
    misnamed: [],
  };

  it('load with import (ESM)', () => {
    const source = program(
      "const core = await import('@redkit/core'); const testing = await import('@redkit/testing'); const ratelimit = await import('@redkit/ratelimit'); const lock = await import('@redkit/lock'); const redlock = await import('@redkit/lock/redlock'); const leaderboard = await import('@redkit/leaderboard'); const geo = await import('@redkit/geo'); const session = await import('@redkit/session'); const cache = await import('@redkit/cache'); const queue = await import('@redkit/queue'); const bullmq = await import('@redkit/queue/bullmq'); const hotkeys = await import('@redkit/hotkeys'); const zod = await import('zod'); const otel = await import('@redkit/core/otel');",
    );
    writeFileSync(join(app, 'esm.mjs'), source);
    expect(JSON.parse(run(process.execPath, ['esm.mjs'], app))).toEqual(expected);
  });

  it('load with require (CommonJS)', () => {
    const source = `(async () => {${program("const core = require('@redkit/core'); const testing = require('@redkit/testing'); const ratelimit = require('@redkit/ratelimit'); const lock = require('@redkit/lock'); const redlock = require('@redkit/lock/redlock'); const leaderboard = require('@redkit/leaderboard'); const geo = require('@redkit/geo'); const session = require('@redkit/session'); const cache = require('@redkit/cache'); const queue = require('@redkit/queue'); const bullmq = require('@redkit/queue/bullmq'); const hotkeys = require('@redkit/hotkeys'); const zod = require('zod'); const otel = require('@redkit/core/otel');")}})().catch((error) => { console.error(error); process.exit(1); });`;
    writeFileSync(join(app, 'cjs.cjs'), source);
    expect(JSON.parse(run(process.execPath, ['cjs.cjs'], app))).toEqual(expected);
  });

  it('ship only built files, each package.json exporting types for import and require', () => {
    const listing = run('npm', ['pack', '--dry-run', '--json', ...packages.flatMap((name) => ['-w', name])], repoRoot);
    for (const pack of JSON.parse(listing) as { name: string; files: { path: string }[] }[]) {
      const paths = pack.files.map((file) => file.path);
      expect(
        paths.every((path) => path.startsWith('dist/') || ['package.json', 'README.md', 'LICENSE'].includes(path)),
      ).toBe(true);
      expect(paths).toContain('dist/index.d.cts');
      expect(paths).toContain('dist/index.d.ts');
    }
  });
});
