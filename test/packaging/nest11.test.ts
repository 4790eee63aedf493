import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The workspace tests Nest 12 (its devDependency); Nest 11, which the peer
 * range also claims, cannot sit beside it. This installs the packed tarballs
 * of @redkit/core and @redkit/ratelimit into a throwaway project with NestJS
 * 11 on Express and @nestjs/throttler 6 (and without fastify-plugin), and
 * serves real requests. Needs the packages built (`npm test` builds first).
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const packages = ['@redkit/core', '@redkit/ratelimit'];
const dependencies = {
  '@nestjs/common': '11.2.12',
  '@nestjs/core': '11.2.12',
  '@nestjs/platform-express': '11.2.12',
  '@nestjs/throttler': '6.7.1',
  ioredis: '6.0.0',
  'reflect-metadata': '0.2.2',
  rxjs: '7.8.2',
};

let work: string;
let app: string;

function run(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'redkit-nest11-'));
  run('npm', ['pack', '--silent', '--pack-destination', work, ...packages.flatMap((name) => ['-w', name])], repoRoot);
  const tarballs = readdirSync(work).filter((file) => file.endsWith('.tgz'));
  expect(tarballs).toHaveLength(packages.length);
  app = join(work, 'app');
  mkdirSync(app);
  const all: Record<string, string> = { ...dependencies };
  for (const tarball of tarballs) {
    const name = packages.find((candidate) => tarball.startsWith(`${candidate.slice(1).replace('/', '-')}-`));
    all[name as string] = `file:../${tarball}`;
  }
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: all }, null, 2),
  );
  // A plain install: the peer ranges must resolve without --legacy-peer-deps.
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The user's app, in plain JavaScript (decorators applied as functions). */
const program = `
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { connect } from '@redkit/core';
import { RateLimiter } from '@redkit/ratelimit';
import { RateLimitModule, RedkitThrottlerStorage } from '@redkit/ratelimit/nest';
import { createRateLimitStore, rateLimitPlugin } from '@redkit/ratelimit/fastify';

const redis = connect(process.env.REDIS_URL);
const namespace = 'nest11-' + process.pid;
const warnings = [];
const logger = { log() {}, debug() {}, verbose() {}, fatal() {}, error: (message) => warnings.push(String(message)), warn: (message) => warnings.push(String(message)) };

class Ok { ok() { return { ok: true }; } }
Get('ok')(Ok.prototype, 'ok', Object.getOwnPropertyDescriptor(Ok.prototype, 'ok'));
Controller()(Ok);

async function serve(imports, providers = []) {
  class AppModule {}
  Module({ imports, controllers: [Ok], providers })(AppModule);
  const nest = await NestFactory.create(AppModule, { logger });
  await nest.listen(0, '127.0.0.1');
  const url = 'http://127.0.0.1:' + nest.getHttpServer().address().port + '/ok';
  const replies = [];
  for (let i = 0; i < 3; i++) {
    const response = await fetch(url);
    replies.push({ status: response.status, type: response.headers.get('content-type'), body: await response.json() });
  }
  await nest.close();
  return replies;
}

const limiter = new RateLimiter({ redis, namespace, policies: [{ name: 'minute', algorithm: 'fixed-window', limit: 2, window: '1m', align: 'first-hit' }] });
const guard = await serve([RateLimitModule.forRoot({ limiter })]);
const throttler = await serve(
  [ThrottlerModule.forRoot({ throttlers: [{ ttl: 60000, limit: 2 }], storage: new RedkitThrottlerStorage({ redis, namespace }) })],
  [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
);
redis.disconnect();
console.log(JSON.stringify({ guard, throttler, warnings, fastify: [typeof rateLimitPlugin, typeof createRateLimitStore] }));
`;

describe('NestJS 11 on Express, from the packed tarballs', () => {
  it('sends every 429 as application/problem+json with no adapter warning, and runs @nestjs/throttler on RedkitThrottlerStorage', () => {
    writeFileSync(join(app, 'main.mjs'), program);
    const output = run('node', ['main.mjs'], app, { ...process.env, REDIS_URL: inject('redkit').standalone.url });
    const { guard, throttler, warnings, fastify } = JSON.parse(output.trim().split('\n').at(-1) as string);
    expect(guard.map((reply: { status: number }) => reply.status)).toEqual([200, 200, 429]);
    expect(guard[2]).toEqual({
      status: 429,
      type: 'application/problem+json; charset=utf-8',
      body: {
        type: 'about:blank',
        title: 'Too Many Requests',
        status: 429,
        detail: 'Rate limit exceeded; retry in 60 seconds.',
        retryAfter: 60,
      },
    });
    expect(throttler.map((reply: { status: number }) => reply.status)).toEqual([200, 200, 429]);
    // Nest 11 logs "Content-Type doesn't match Reply body" on each denial it rewrites.
    expect(warnings).toEqual([]);
    // The Fastify entry loads without fastify-plugin installed.
    expect(fastify).toEqual(['function', 'function']);
  });
});
