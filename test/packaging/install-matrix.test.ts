import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  childEnv,
  installProject,
  type Printed,
  packTarballs,
  repoVersion,
  run,
  withWorkspaceDependencies,
} from './packed.js';

/**
 * The install matrix: the packed tarballs installed with a plain
 * `npm install` (no `--legacy-peer-deps`) into fresh projects next to each
 * framework version users run, and one real request served through redkit
 * there (or one cache round trip), against a private redis-server.
 *
 * Cells whose versions can live together share a project, as installs take
 * most of the time; a second major of express-rate-limit comes in under an
 * npm alias (`express-rate-limit7`), as redkit has no peer on it and npm
 * still checks the alias's own peers (express). What npm resolves peers
 * against by name gets a project per major: express, NestJS, and
 * fastify-plugin (no longer a peer of redkit: a peer on either major would
 * fail the other's plain install with ERESOLVE, as `^5` once did next to 6).
 * A failing cell names itself and shows npm's output or the app's.
 * Needs the packages built (`npm test` builds first).
 */

const apps = fileURLToPath(new URL('./install-matrix/', import.meta.url));
/** How many projects install at once: the machine has two cores. */
const installConcurrency = 2;
const installTimeout = 400_000;
/** A cell may wait for its project's install behind the others. */
const cellTimeout = 900_000;

/** Versions not in the repository (it holds the current majors only). */
const fastifyPlugin5 = '5.1.0';
const nest11 = '11.2.12';

const express4 = repoVersion('express4');
const express5 = repoVersion('express');
const ioredis = repoVersion('ioredis');
const expressRateLimit = {
  'express-rate-limit': repoVersion('express-rate-limit'),
  'express-rate-limit7': `npm:express-rate-limit@${repoVersion('express-rate-limit7')}`,
};
const nest = (version: string) => ({
  '@nestjs/common': version,
  '@nestjs/core': version,
  '@nestjs/platform-express': version,
  '@nestjs/throttler': repoVersion('@nestjs/throttler'),
  'reflect-metadata': repoVersion('reflect-metadata'),
  rxjs: repoVersion('rxjs'),
});

interface Project {
  /** The registry packages, at exact versions. */
  dependencies: Record<string, string>;
  /** The @redkit packages, from the tarballs (with those they depend on). */
  redkit: string[];
}

const projects = {
  'express 5': {
    dependencies: {
      express: express5,
      ...expressRateLimit,
      'express-session': repoVersion('express-session'),
      ioredis,
    },
    redkit: ['@redkit/ratelimit', '@redkit/session'],
  },
  'express 4': {
    dependencies: { express: express4, ...expressRateLimit, ioredis },
    redkit: ['@redkit/ratelimit'],
  },
  'fastify 5 + fastify-plugin 6': {
    dependencies: {
      fastify: repoVersion('fastify'),
      'fastify-plugin': repoVersion('fastify-plugin'),
      '@fastify/rate-limit': repoVersion('@fastify/rate-limit'),
      '@fastify/session': repoVersion('@fastify/session'),
      '@fastify/cookie': repoVersion('@fastify/cookie'),
      ioredis,
    },
    redkit: ['@redkit/ratelimit', '@redkit/session'],
  },
  'fastify 5 + fastify-plugin 5': {
    dependencies: { fastify: repoVersion('fastify'), 'fastify-plugin': fastifyPlugin5, ioredis },
    redkit: ['@redkit/ratelimit'],
  },
  'NestJS 11': { dependencies: { ...nest(nest11), ioredis }, redkit: ['@redkit/ratelimit'] },
  'NestJS 12': { dependencies: { ...nest(repoVersion('@nestjs/core')), ioredis }, redkit: ['@redkit/ratelimit'] },
  'keyv 5 + cache-manager 7': {
    dependencies: { keyv: repoVersion('keyv'), 'cache-manager': repoVersion('cache-manager'), ioredis },
    redkit: ['@redkit/cache'],
  },
} satisfies Record<string, Project>;
type ProjectName = keyof typeof projects;

/** One HTTP reply as the apps report it. */
interface Reply {
  status: number;
  headers: Record<string, string>;
  cookies: string[];
  body: unknown;
}

/** How a project's install went, with npm's output when it failed. */
type Installed = { ok: true; seconds: number } | { ok: false; seconds: number; output: string };

let work: string;
let redis: StandaloneRedis;
let serial = 0;
const installs = new Map<ProjectName, Promise<Installed>>();
const started = Date.now();

/** Runs `tasks` with at most `limit` at a time. */
function limited<T>(limit: number): (task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

beforeAll(async () => {
  redis = await startStandalone();
  work = mkdtempSync(join(tmpdir(), 'redkit-install-matrix-'));
  const tarballs = await packTarballs(
    work,
    Object.values(projects).flatMap((project) => project.redkit),
  );
  // Every install starts now, two at a time; each cell waits for its own project.
  const slot = limited<Installed>(installConcurrency);
  for (const [name, project] of Object.entries(projects) as [ProjectName, Project][]) {
    const directory = join(work, name.replace(/[^a-z0-9]+/gi, '-'));
    const needed = new Set(withWorkspaceDependencies(project.redkit));
    const own = new Map([...tarballs].filter(([pkg]) => needed.has(pkg)));
    installs.set(
      name,
      slot(async () => {
        const begin = Date.now();
        const seconds = () => Math.round((Date.now() - begin) / 100) / 10;
        try {
          await installProject(directory, project.dependencies, own, { timeout: installTimeout });
          cpSync(apps, directory, { recursive: true });
          return { ok: true, seconds: seconds() };
        } catch (error) {
          return { ok: false, seconds: seconds(), output: (error as Error).message };
        }
      }),
    );
  }
}, 300_000);

afterAll(async () => {
  const settled = await Promise.all([...installs].map(async ([name, install]) => [name, await install] as const));
  const times = settled.map(([name, install]) => `${name} ${install.seconds}s${install.ok ? '' : ' (failed)'}`);
  console.info(`install matrix: ${Math.round((Date.now() - started) / 1000)}s in all; installs: ${times.join(', ')}`);
  await redis?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * Runs `app` (with `args`) in the project of `cell`, and resolves the JSON
 * it reports. Fails naming the cell, with npm's output when the install
 * failed, or the app's when it did not report.
 */
async function runCell(cell: string, project: ProjectName, app: string, args: string[] = []) {
  const install = await (installs.get(project) as Promise<Installed>);
  if (!install.ok) throw new Error(`cell "${cell}": npm install of project "${project}" failed:\n${install.output}`);
  const directory = join(work, project.replace(/[^a-z0-9]+/gi, '-'));
  let printed: Printed;
  try {
    printed = await run(process.execPath, [app, ...args], {
      cwd: directory,
      env: childEnv({ REDIS_URL: redis.url, NAMESPACE: `matrix-${++serial}` }),
      timeout: 60_000,
    });
  } catch (error) {
    throw new Error(`cell "${cell}": ${(error as Error).message}`);
  }
  const last = printed.stdout.trim().split('\n').at(-1) ?? '';
  const context = `cell "${cell}" (${app}) printed:\n${printed.stdout}\n${printed.stderr}`;
  // Nothing on stderr: no warning from redkit, the framework or Node.
  expect(printed.stderr, context).toBe('');
  let result: Record<string, unknown>;
  try {
    result = JSON.parse(last);
  } catch {
    throw new Error(`${context}\n(no JSON report on its last line)`);
  }
  return { result, context };
}

const statuses = (replies: Reply[]) => replies.map((reply) => reply.status);
/** The major version of `name` that the app reports it ran on. */
const majorOf = (result: Record<string, unknown>, name: string) =>
  String((result.versions as Record<string, string | undefined>)[name]).split('.')[0];
/** A reset or retry in whole seconds of a 60 s window, as seen a moment after it started. */
const aboutAMinute = /^(59|60)$/;

describe('install matrix: packed tarballs + plain npm install + one real request', { timeout: cellTimeout }, () => {
  describe.each(['express 5', 'express 4'] as const)('%s', (project) => {
    it.each(['8', '7'])(
      `express-rate-limit %s with RedkitStore: the second request gets 429 with draft-7 headers`,
      async (major) => {
        const cell = `${project} + express-rate-limit ${major}`;
        const { result, context } = await runCell(cell, project, 'express-rate-limit.mjs', [major]);
        const replies = result.replies as Reply[];
        expect(majorOf(result, 'express'), context).toBe(project.split(' ')[1]);
        expect(majorOf(result, 'express-rate-limit'), context).toBe(major);
        expect(statuses(replies), context).toEqual([200, 429]);
        const [first, second] = replies as [Reply, Reply];
        expect(first.body, context).toEqual({ ok: true });
        expect(first.headers.ratelimit, context).toMatch(/^limit=1, remaining=0, reset=(59|60)$/);
        expect(second.headers.ratelimit, context).toMatch(/^limit=1, remaining=0, reset=(59|60)$/);
        expect(second.headers['ratelimit-policy'], context).toBe('1;w=60');
        expect(second.headers['retry-after'], context).toMatch(aboutAMinute);
        expect(second.body, context).toBe('Too many requests, please try again later.');
        // Both hits were counted in Redis.
        expect(result.totalHits, context).toBe(2);
      },
    );

    it("redkit's own middleware: the second request gets a problem+json 429", async () => {
      const { result, context } = await runCell(`${project} + rateLimit()`, project, 'express-middleware.mjs');
      const [first, second] = result.replies as [Reply, Reply];
      expect([first.status, second.status], context).toEqual([200, 429]);
      expect(first.body, context).toEqual({ remaining: 0 });
      expect(second.headers['content-type'], context).toBe('application/problem+json; charset=utf-8');
      expect(second.headers['retry-after'], context).toMatch(aboutAMinute);
      expect(second.body, context).toMatchObject({ status: 429, title: 'Too Many Requests' });
    });
  });

  it('express 5 + express-session with RedkitSessionStore: the session cookie round-trips through Redis', async () => {
    const { result, context } = await runCell('express 5 + express-session', 'express 5', 'express-session.mjs');
    expect(result.cookieNames, context).toEqual(['connect.sid']);
    expect(result.me, context).toEqual({ user: 'ada' });
    expect(result.anonymous, context).toEqual({ user: null });
    expect(result.stored, context).toEqual({ user: 'ada', maxAge: 60_000 });
    expect(result.ids, context).toEqual([result.sessionId]);
  });

  describe.each(['fastify 5 + fastify-plugin 6', 'fastify 5 + fastify-plugin 5'] as const)('%s', (project) => {
    it('rateLimitPlugin beside a plugin of the app wrapped with fastify-plugin: the second request gets 429', async () => {
      const { result, context } = await runCell(project, project, 'fastify-plugin.mjs');
      expect(majorOf(result, 'fastify-plugin'), context).toBe(project.at(-1));
      const [first, second] = result.replies as [Reply, Reply];
      expect([first.status, second.status], context).toEqual([200, 429]);
      expect(first.body, context).toEqual({ greeting: 'hello' });
      expect(second.headers['content-type'], context).toBe('application/problem+json; charset=utf-8');
      expect(second.headers['retry-after'], context).toMatch(aboutAMinute);
      expect(second.body, context).toMatchObject({ status: 429, title: 'Too Many Requests' });
    });
  });

  it('fastify 5 + @fastify/rate-limit with createRateLimitStore: the second request gets its 429', async () => {
    const project = 'fastify 5 + fastify-plugin 6';
    const { result, context } = await runCell('fastify 5 + @fastify/rate-limit', project, 'fastify-rate-limit.mjs');
    const [first, second] = result.replies as [Reply, Reply];
    expect([first.status, second.status], context).toEqual([200, 429]);
    expect(first.headers['x-ratelimit-limit'], context).toBe('1');
    expect(first.headers['x-ratelimit-remaining'], context).toBe('0');
    expect(second.headers['retry-after'], context).toMatch(aboutAMinute);
    expect(second.body, context).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(result.keys, context).toBe(1);
  });

  it('fastify 5 + @fastify/session with RedkitFastifySessionStore: the session cookie round-trips through Redis', async () => {
    const project = 'fastify 5 + fastify-plugin 6';
    const { result, context } = await runCell('fastify 5 + @fastify/session', project, 'fastify-session.mjs');
    expect(result.cookieNames, context).toEqual(['sessionId']);
    expect(result.me, context).toEqual({ user: 'ada' });
    expect(result.anonymous, context).toEqual({ user: null });
    expect(result.stored, context).toBe('ada');
  });

  describe.each(['NestJS 11', 'NestJS 12'] as const)('%s on Express', (project) => {
    it('RateLimitGuard sends a problem+json 429 with no adapter warning; @nestjs/throttler 6 runs on RedkitThrottlerStorage', async () => {
      const { result, context } = await runCell(project, project, 'nest.mjs');
      expect(majorOf(result, '@nestjs/core'), context).toBe(project.split(' ')[1]);
      expect(majorOf(result, '@nestjs/platform-express'), context).toBe(project.split(' ')[1]);
      const guard = result.guard as Reply[];
      expect(statuses(guard), context).toEqual([200, 200, 429]);
      const denied = guard[2] as Reply;
      expect(denied.headers['content-type'], context).toBe('application/problem+json; charset=utf-8');
      expect(denied.body, context).toEqual({
        type: 'about:blank',
        title: 'Too Many Requests',
        status: 429,
        detail: 'Rate limit exceeded; retry in 60 seconds.',
        retryAfter: 60,
      });
      const throttler = result.throttler as Reply[];
      expect(statuses(throttler), context).toEqual([200, 200, 429]);
      expect((throttler[2] as Reply).headers['retry-after'], context).toMatch(aboutAMinute);
      // Nest 11's ExpressAdapter logs "Content-Type doesn't match Reply body" on each denial it rewrites.
      expect(result.logged, context).toEqual([]);
      expect(result.fastifyEntry, context).toEqual(['function', 'function']);
    });
  });

  it('keyv 5 + cache-manager 7 with RedkitKeyvStore: values come back from Redis through another connection', async () => {
    const project = 'keyv 5 + cache-manager 7';
    const { result, context } = await runCell(project, project, 'keyv.mjs');
    expect(result.keyvRead, context).toEqual({ name: 'Ada' });
    expect(result.wrapped, context).toEqual([{ price: 7 }, { price: 7 }]);
    expect(result.loads, context).toBe(1);
    expect(result.cacheRead, context).toEqual({ price: 7 });
    expect(result.keys, context).toBe(2);
    expect(result.expiring, context).toBe(true);
  });
});
