import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { RedisConnection } from '@redkit/core';
import { describeTopologies, testServer } from '@redkit/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { ProductsController } from '../src/products/products.controller.js';
import { ProductsRepository } from '../src/products/products.repository.js';
import { REDIS } from '../src/redis/redis.module.js';

const limit = 20;

/** A response, read to its end (express-session saves the session before it ends the response). */
interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json(): unknown;
}

/** A client with its own cookie, as one browser or device. */
class Device {
  private cookie: string | undefined;

  constructor(private readonly base: string) {}

  async request(method: string, path: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = response.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  }

  async login(userId: string): Promise<void> {
    const response = await this.request('POST', '/auth/login', { userId });
    expect(response.status, response.text).toBe(200);
    expect(this.cookie).toMatch(/^sid=/);
  }
}

describeTopologies('nest-app over HTTP', (t) => {
  let app: NestExpressApplication;
  let base: string;
  let redis: RedisConnection;

  beforeAll(async () => {
    app = await createApp(
      { redisUrl: t.url, namespace: t.namespace, requestsPerMinute: limit, sessionSecret: 'test', queryDelayMs: 50 },
      { logger: false },
    );
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    redis = app.get<RedisConnection>(REDIS);
  });

  afterAll(async () => {
    await app?.close(); // no-op when the shutdown test closed it already
  });

  it('limits each user: 429 with the rate-limit headers after the limit, other users and /health unaffected', async () => {
    const ada = new Device(base);
    await ada.login('rate-limited');
    for (let request = 1; request <= limit; request++) {
      const response = await ada.request('GET', '/auth/me');
      expect(response.status, `request ${request}: ${response.text}`).toBe(200);
      expect(response.headers.get('ratelimit')).toMatch(new RegExp(`^"minute";r=${limit - request};t=\\d+$`));
    }
    const denied = await ada.request('GET', '/auth/me');
    expect(denied.status).toBe(429);
    // pk: the draft-8 partition key, a hash of the user's key (docs/ratelimit-http.md).
    expect(denied.headers.get('ratelimit-policy')).toMatch(
      new RegExp(`^"minute";q=${limit};w=60;pk=:[A-Za-z0-9+/]+=*:$`),
    );
    expect(denied.headers.get('ratelimit')).toMatch(/^"minute";r=0;t=\d+$/);
    expect(Number(denied.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(denied.json()).toMatchObject({ status: 429 });

    const ben = new Device(base);
    await ben.login('not-limited');
    expect((await ben.request('GET', '/auth/me')).status).toBe(200);
    const health = await ada.request('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.headers.get('ratelimit')).toBeNull();
  });

  it('runs the cached endpoint loader once for concurrent requests, caches "not found", writes through', async () => {
    const shopper = new Device(base);
    await shopper.login('shopper');
    const repository = app.get(ProductsRepository);
    const before = repository.queries;
    const responses = await Promise.all(Array.from({ length: 10 }, () => shopper.request('GET', '/products/1')));
    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
    const bodies = responses.map((response) => response.json());
    expect(new Set(bodies.map((body) => JSON.stringify(body)))).toEqual(
      new Set([JSON.stringify({ id: 1, name: 'Espresso machine', price: 349 })]),
    );
    expect(repository.queries - before).toBe(1);

    expect((await shopper.request('GET', '/products/404')).status).toBe(404);
    expect((await shopper.request('GET', '/products/404')).status).toBe(404);
    expect(repository.queries - before).toBe(2); // the second 404 came from the cache

    const updated = await shopper.request('PUT', '/products/2', { price: 99 });
    expect(updated.json()).toEqual({ id: 2, name: 'Grinder', price: 99 });
    const queries = repository.queries;
    expect((await shopper.request('GET', '/products/2')).json()).toEqual({ id: 2, name: 'Grinder', price: 99 });
    expect(repository.queries).toBe(queries); // served from the cache the write went through
    expect((await shopper.request('GET', '/products/abc')).status).toBe(400); // ParseIntPipe
    const refused = await shopper.request('PUT', '/products/2', { price: 'free' });
    expect(refused.status).toBe(400); // the zod body pipe
    expect(refused.json()).toMatchObject({ message: 'expected { "price": <positive number> }' });
    expect((await shopper.request('GET', '/products/2')).json()).toEqual({ id: 2, name: 'Grinder', price: 99 });
    expect(app.get(ProductsController)).toBeInstanceOf(ProductsController); // a singleton: app.get() refuses request scope
  });

  it('keeps login state across requests; logout ends one session, logout-everywhere all of them', async () => {
    const laptop = new Device(base);
    const phone = new Device(base);
    const tablet = new Device(base);
    expect((await laptop.request('GET', '/auth/me')).status).toBe(401);
    await laptop.login('ada');
    await phone.login('ada');
    await tablet.login('ada');

    expect((await laptop.request('GET', '/auth/me')).json()).toEqual({ userId: 'ada', visits: 1 });
    expect((await laptop.request('GET', '/auth/me')).json()).toEqual({ userId: 'ada', visits: 2 });
    expect((await phone.request('GET', '/auth/me')).json()).toEqual({ userId: 'ada', visits: 1 });

    expect((await laptop.request('POST', '/auth/logout')).status).toBe(204);
    expect((await laptop.request('GET', '/auth/me')).status).toBe(401);
    expect((await phone.request('GET', '/auth/me')).status).toBe(200);

    expect((await phone.request('POST', '/auth/logout-everywhere')).json()).toEqual({ ended: 2 });
    expect((await phone.request('GET', '/auth/me')).status).toBe(401);
    expect((await tablet.request('GET', '/auth/me')).status).toBe(401);
  });

  it('shuts down cleanly: closes the server, the caches and then the Redis connection', async () => {
    const server = app.getHttpServer();
    await app.close();
    expect(server.listening).toBe(false);
    expect(redis.status).toBe('end');
  });
});

describe('src/main.ts, as `npx tsx src/main.ts` runs it', () => {
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('starts on the built packages, answers, and exits on SIGTERM', async () => {
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
    const started = spawn(tsx, ['src/main.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, REDIS_URL: testServer('standalone').url, PORT: '0', SESSION_SECRET: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let stdout = '';
    let stderr = '';
    started.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const url = await new Promise<string>((resolve, reject) => {
      started.stdout?.on('data', (chunk) => {
        stdout += chunk;
        const match = /nest-app listening on (http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1] as string);
      });
      started.once('exit', (code) => reject(new Error(`exited with ${code} before listening:\n${stdout}\n${stderr}`)));
    });
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    // tsx emits no decorator metadata: the controller and service get their dependencies from @Inject() alone.
    const product = await fetch(`${url}/products/3`);
    expect(await product.json()).toEqual({ id: 3, name: 'Kettle', price: 59 });

    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      started.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    started.kill('SIGTERM');
    // Nest runs the shutdown hooks, then re-raises the signal; tsx exits with 128 + 15 for it.
    expect(await exited).toBe(143);
    expect(stderr).toBe('');
  });
});
