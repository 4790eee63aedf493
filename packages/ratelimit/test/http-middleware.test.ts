import { createServer, type IncomingHttpHeaders, type RequestListener, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Controller, Get, type INestApplication, Module, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type PolicyInput, RateLimiter } from '@redkit/ratelimit';
import { partitionKey, rateLimit } from '@redkit/ratelimit/express';
import { rateLimitPlugin } from '@redkit/ratelimit/fastify';
import { RateLimit, RateLimitGuard, RateLimitModule, SkipRateLimit } from '@redkit/ratelimit/nest';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// ---------------------------------------------------------------------------
// One app per framework, with the same routes:
//   /ok      limited by the app-wide settings
//   /slow    like /ok, but waits for the test to open a gate
//   /free    exempt from limiting
//   /heavy   costs 3 units
//   /keyed   limited under `route:<x-user header>` instead of the IP
// ---------------------------------------------------------------------------

type Headers = IncomingHttpHeaders;
interface TestRequest {
  readonly headers: Headers;
  readonly ip?: string;
  readonly body?: unknown;
}

/** What the handlers report to the test. */
class Probe {
  /** Paths whose handler ran. */
  readonly hits: string[] = [];
  private openGate: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => {
    this.openGate = resolve;
  });
  private markEntered: () => void = () => {};
  /** Resolves once /slow's handler is running. */
  readonly entered = new Promise<void>((resolve) => {
    this.markEntered = resolve;
  });

  hit(path: string): { ok: true } {
    this.hits.push(path);
    return { ok: true };
  }

  async slow(): Promise<{ ok: true }> {
    this.markEntered();
    await this.gate;
    return this.hit('/slow');
  }

  open(): void {
    this.openGate();
  }
}

/** Options the test hands to every framework (the limiter and friends). */
type AppOptions = Record<string, unknown> & { limiter: RateLimiter };

interface AppSpec {
  readonly options: AppOptions;
  readonly probe: Probe;
  /** Trust X-Forwarded-For (from the loopback test client). */
  readonly trustProxy?: boolean;
}

interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

interface Harness {
  readonly name: string;
  start(spec: AppSpec): Promise<RunningApp>;
  /** Body of a 500 caused by `error`. */
  errorBody(error: Error): unknown;
}

const routeKey = (req: TestRequest) => `route:${String(req.headers['x-user'])}`;

/** Listens on all interfaces, so IPv4 clients arrive as IPv4-mapped IPv6 (`::ffff:127.0.0.1`). */
async function listen(listener: RequestListener): Promise<RunningApp> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// Express has no bundled types and @types/express is not a dependency: a
// structural view of the part these tests use.
interface ExpressResponse extends ServerResponse {
  status(code: number): ExpressResponse;
  json(body: unknown): void;
}
type ExpressHandler = (req: TestRequest, res: ExpressResponse, next: (error?: unknown) => void) => void;
type ExpressErrorHandler = (error: Error, req: TestRequest, res: ExpressResponse, next: () => void) => void;
interface ExpressApp extends RequestListener {
  set(name: string, value: unknown): void;
  get(path: string, ...handlers: ExpressHandler[]): void;
  post(path: string, ...handlers: ExpressHandler[]): void;
  use(...handlers: (ExpressHandler | ExpressErrorHandler)[]): void;
}
interface ExpressModule {
  (): ExpressApp;
  json(): ExpressHandler;
}
const require = createRequire(import.meta.url);

function expressHarness(name: string, packageName: string): Harness {
  const express = require(packageName) as ExpressModule;
  return {
    name,
    errorBody: (error) => ({ error: error.message }),
    async start({ options, probe, trustProxy }) {
      const app = express();
      if (trustProxy) app.set('trust proxy', true);
      const send =
        (path: string): ExpressHandler =>
        (_req, res) =>
          res.json(probe.hit(path));
      // Routes declared before app.use() are not under the app-wide middleware.
      app.get('/free', send('/free'));
      app.get('/heavy', rateLimit({ ...options, cost: 3 }), send('/heavy'));
      app.get('/keyed', rateLimit({ ...options, key: routeKey }), send('/keyed'));
      app.use(express.json());
      app.use(rateLimit<TestRequest>(options));
      app.get('/ok', send('/ok'));
      app.post('/ok', send('/ok'));
      app.get('/slow', (_req, res, next) => {
        probe.slow().then((body) => res.json(body), next);
      });
      app.use((error, _req, res, _next) => res.status(500).json({ error: error.message }));
      return listen(app);
    },
  };
}

const fastifyHarness: Harness = {
  name: 'Fastify',
  errorBody: (error) => ({ error: error.message }),
  async start({ options, probe, trustProxy }) {
    // Closing must not wait for the connection of a request the client aborted.
    const app = Fastify({ trustProxy: trustProxy ?? false, forceCloseConnections: true });
    app.setErrorHandler((error: Error, _request, reply) => reply.code(500).send({ error: error.message }));
    await app.register(rateLimitPlugin, options);
    app.get('/free', { config: { rateLimit: false } }, () => probe.hit('/free'));
    app.get('/heavy', { config: { rateLimit: { cost: 3 } } }, () => probe.hit('/heavy'));
    app.get('/keyed', { config: { rateLimit: { key: routeKey } } }, () => probe.hit('/keyed'));
    app.get('/ok', () => probe.hit('/ok'));
    app.post('/ok', () => probe.hit('/ok'));
    app.get('/slow', () => probe.slow());
    app.post('/slow', () => probe.slow());
    await app.listen({ port: 0, host: '::' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

function nestHarness(platform: 'express' | 'fastify'): Harness {
  return {
    name: `Nest (${platform === 'express' ? 'Express' : 'Fastify'} adapter)`,
    errorBody: () => ({ statusCode: 500, message: 'Internal server error' }),
    async start({ options, probe, trustProxy }) {
      @Controller()
      class TestController {
        @Get('ok')
        ok() {
          return probe.hit('/ok');
        }

        @Post('ok')
        postOk() {
          return probe.hit('/ok');
        }

        @Get('slow')
        slow() {
          return probe.slow();
        }

        @Get('free')
        @SkipRateLimit()
        free() {
          return probe.hit('/free');
        }

        @Get('heavy')
        @RateLimit({ cost: 3 })
        heavy() {
          return probe.hit('/heavy');
        }

        @Get('keyed')
        @RateLimit({ key: routeKey })
        keyed() {
          return probe.hit('/keyed');
        }
      }

      @Controller('public')
      @SkipRateLimit()
      class PublicController {
        @Get('open')
        open() {
          return probe.hit('/public/open');
        }

        @Get('counted')
        @SkipRateLimit(false)
        counted() {
          return probe.hit('/public/counted');
        }
      }

      // Bound explicitly as well: with the global guard too, it must count once.
      @Controller('guarded')
      @UseGuards(RateLimitGuard)
      class GuardedController {
        @Get()
        guarded() {
          return probe.hit('/guarded');
        }
      }

      @Module({
        imports: [RateLimitModule.forRoot<TestRequest>(options)],
        controllers: [TestController, PublicController, GuardedController],
      })
      class AppModule {}

      let app: INestApplication;
      if (platform === 'express') {
        const expressApp = await NestFactory.create<NestExpressApplication>(AppModule, new ExpressAdapter(), {
          logger: false,
          forceCloseConnections: true,
        });
        if (trustProxy) expressApp.set('trust proxy', true);
        app = expressApp;
      } else {
        app = await NestFactory.create<NestFastifyApplication>(
          AppModule,
          new FastifyAdapter({ trustProxy: trustProxy ?? false, forceCloseConnections: true }),
          { logger: false },
        );
      }
      await app.listen(0, '::');
      const { port } = app.getHttpServer().address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    },
  };
}

const harnesses: Harness[] = [
  expressHarness('Express 4', 'express4'),
  expressHarness('Express 5', 'express'),
  nestHarness('express'),
  nestHarness('fastify'),
  fastifyHarness,
];

// ---------------------------------------------------------------------------

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

async function get(url: string, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: type.includes('json') && text ? JSON.parse(text) : text,
  };
}

const rateLimitFields = (reply: Reply) => ({
  policy: reply.headers['ratelimit-policy'],
  limit: reply.headers.ratelimit,
  retryAfter: reply.headers['retry-after'],
});

/** `RateLimit-Policy` of these items for the test client's key, each with its `pk` (draft-8 partition key). */
const policyOf = (...items: string[]) => items.map((item) => `${item};pk=:${partitionKey('127.0.0.1')}:`).join(', ');

const minute: PolicyInput = { name: 'minute', algorithm: 'fixed-window', limit: 3, window: '1m', align: 'first-hit' };

describeTopologies('HTTP middleware', (t) => {
  let serial = 0;
  const running: RunningApp[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.close()));
  });

  /** A fresh limiter (own namespace) and a record of every subject it was asked about. */
  function limiterOf(policies: PolicyInput[], extra: Partial<ConstructorParameters<typeof RateLimiter>[0]> = {}) {
    const limiter = new RateLimiter({
      redis: t.redis,
      namespace: `${t.namespace}:${++serial}`,
      policies,
      // Tests check decisions, not latency: a busy moment must not fail open.
      timeout: '10s',
      ...extra,
    });
    const subjects: string[] = [];
    limiter.events.onAny((_pattern, _type, payload) => subjects.push((payload as { subject: string }).subject));
    return { limiter, subjects };
  }

  async function start(harness: Harness, options: AppOptions, trustProxy = false) {
    const probe = new Probe();
    const app = await harness.start({ options, probe, trustProxy });
    running.push(app);
    return { url: app.url, probe };
  }

  describe.each(harnesses)('$name', (harness) => {
    it('sends RateLimit-Policy and RateLimit for the binding policy, then 429 with problem details', async () => {
      const { limiter, subjects } = limiterOf([
        minute,
        { name: 'bucket', algorithm: 'token-bucket', capacity: 10, refillRate: 1, interval: '1s' },
        { name: 'smooth', algorithm: 'gcra', limit: 100, period: '1m', burst: 20 },
        { name: 'parallel', algorithm: 'concurrency', limit: 5, leaseTtl: '1m' },
      ]);
      const { url, probe } = await start(harness, { limiter });
      const policy = policyOf(
        '"minute";q=3;w=60',
        '"bucket";q=10;w=10',
        '"smooth";q=20;w=12',
        '"parallel";q=5;qu="concurrent-requests"',
      );

      const replies: Reply[] = [];
      for (let i = 0; i < 4; i++) replies.push(await get(`${url}/ok`));
      expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 429]);
      expect(replies.map(rateLimitFields)).toEqual([
        { policy, limit: '"minute";r=2;t=60', retryAfter: undefined },
        { policy, limit: '"minute";r=1;t=60', retryAfter: undefined },
        { policy, limit: '"minute";r=0;t=60', retryAfter: undefined },
        { policy, limit: '"minute";r=0;t=60', retryAfter: '60' },
      ]);
      expect(replies[0]?.body).toEqual({ ok: true });
      expect(replies[0]?.headers['x-ratelimit-limit']).toBeUndefined();

      const denied = replies[3] as Reply;
      expect(denied.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(denied.body).toEqual({
        type: 'about:blank',
        title: 'Too Many Requests',
        status: 429,
        detail: 'Rate limit exceeded; retry in 60 seconds.',
        retryAfter: 60,
      });
      expect(probe.hits).toEqual(['/ok', '/ok', '/ok']);
      // The dual-stack server saw ::ffff:127.0.0.1; the key is the plain IPv4 address.
      expect(subjects).toEqual(Array(4).fill('127.0.0.1'));
    });

    it('sends legacy X-RateLimit-* headers only when enabled', async () => {
      const { limiter } = limiterOf([minute]);
      const { url } = await start(harness, { limiter, headers: { standard: false, legacy: true } });
      const before = Date.now();
      const reply = await get(`${url}/ok`);
      const after = Date.now();
      expect(reply.status).toBe(200);
      expect(reply.headers['x-ratelimit-limit']).toBe('3');
      expect(reply.headers['x-ratelimit-remaining']).toBe('2');
      // Epoch seconds of (response time + 60 s window), rounded up; the response time lies in [before, after].
      const reset = Number(reply.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThanOrEqual(Math.ceil((before + 59_000) / 1000));
      expect(reset).toBeLessThanOrEqual(Math.ceil((after + 60_000) / 1000));
      expect(reply.headers.ratelimit).toBeUndefined();
      expect(reply.headers['ratelimit-policy']).toBeUndefined();
    });

    it('never asks Redis about skipped requests', async () => {
      const { limiter, subjects } = limiterOf([minute]);
      const { url, probe } = await start(harness, {
        limiter,
        skip: (req: TestRequest) => req.headers['x-skip'] === 'yes',
      });
      for (let i = 0; i < 5; i++) {
        const reply = await get(`${url}/ok`, { 'x-skip': 'yes' });
        expect(reply.status).toBe(200);
        expect(reply.headers.ratelimit).toBeUndefined();
        expect(reply.headers['ratelimit-policy']).toBeUndefined();
      }
      expect(subjects).toEqual([]);
      expect((await limiter.peek('127.0.0.1')).remaining).toBe(3);
      expect(probe.hits).toHaveLength(5);
      expect(rateLimitFields(await get(`${url}/ok`)).limit).toBe('"minute";r=2;t=60');
    });

    it('never asks Redis about allow-listed keys', async () => {
      const { limiter, subjects } = limiterOf([minute]);
      const { url } = await start(harness, { limiter, allowList: ['10.9.8.7', '127.0.0.1'] });
      for (let i = 0; i < 5; i++) {
        const reply = await get(`${url}/ok`);
        expect(reply.status).toBe(200);
        expect(reply.headers.ratelimit).toBeUndefined();
      }
      expect(subjects).toEqual([]);
      expect((await limiter.peek('127.0.0.1')).remaining).toBe(3);
    });

    it('honours per-route exemption, cost and key', async () => {
      const { limiter, subjects } = limiterOf([minute]);
      const { url, probe } = await start(harness, { limiter });

      const heavy = await get(`${url}/heavy`);
      expect([heavy.status, heavy.headers.ratelimit]).toEqual([200, '"minute";r=0;t=60']);
      const ok = await get(`${url}/ok`);
      expect([ok.status, ok.headers.ratelimit, ok.headers['retry-after']]).toEqual([429, '"minute";r=0;t=60', '60']);

      const free = await get(`${url}/free`);
      expect([free.status, free.headers.ratelimit, free.headers['ratelimit-policy']]).toEqual([
        200,
        undefined,
        undefined,
      ]);

      const keyed = await get(`${url}/keyed`, { 'x-user': 'alice' });
      expect([keyed.status, keyed.headers.ratelimit]).toEqual([200, '"minute";r=2;t=60']);
      expect(subjects).toEqual(['127.0.0.1', '127.0.0.1', 'route:alice']);
      expect(probe.hits).toEqual(['/heavy', '/free', '/keyed']);
    });

    it('groups IPv6 clients by /64 and maps IPv4-mapped addresses to IPv4 (trusted X-Forwarded-For)', async () => {
      const { limiter, subjects } = limiterOf([{ ...minute, limit: 2 }]);
      const { url } = await start(harness, { limiter }, true);
      const from = async (address: string) => (await get(`${url}/ok`, { 'x-forwarded-for': address })).status;

      expect(await from('2001:db8:1:2::a')).toBe(200);
      expect(await from('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(200);
      expect(await from('2001:db8:1:2:1234::5')).toBe(429);
      expect(await from('2001:db8:1:3::1')).toBe(200);
      expect(await from('::ffff:203.0.113.9')).toBe(200);
      expect(subjects).toEqual([
        '2001:db8:1:2::/64',
        '2001:db8:1:2::/64',
        '2001:db8:1:2::/64',
        '2001:db8:1:3::/64',
        '203.0.113.9',
      ]);
    });

    it('releases a concurrency lease when the response ends', async () => {
      const { limiter } = limiterOf([{ name: 'parallel', algorithm: 'concurrency', limit: 1, leaseTtl: '1m' }]);
      const { url, probe } = await start(harness, { limiter });

      const first = get(`${url}/slow`);
      await probe.entered;
      const second = await get(`${url}/ok`);
      expect([second.status, second.headers.ratelimit, second.headers['retry-after']]).toEqual([
        429,
        '"parallel";r=0',
        '60',
      ]);
      probe.open();
      const done = await first;
      expect([done.status, done.headers.ratelimit, done.headers['ratelimit-policy']]).toEqual([
        200,
        '"parallel";r=0',
        policyOf('"parallel";q=1;qu="concurrent-requests"'),
      ]);
      // The release runs when the response finishes, alongside the client reading it.
      await vi.waitFor(async () => expect((await limiter.peek('127.0.0.1')).remaining).toBe(1));
      const third = await get(`${url}/ok`);
      expect([third.status, third.headers.ratelimit]).toEqual([200, '"parallel";r=0']);
      await vi.waitFor(async () => expect((await limiter.peek('127.0.0.1')).remaining).toBe(1));
    });

    it('releases a concurrency lease when the client goes away', async () => {
      const { limiter } = limiterOf([{ name: 'parallel', algorithm: 'concurrency', limit: 1, leaseTtl: '1m' }]);
      const { url, probe } = await start(harness, { limiter });
      const abort = new AbortController();
      const pending = get(`${url}/slow`, {}, { signal: abort.signal }).catch((error: Error) => error.name);
      await probe.entered;
      expect((await limiter.peek('127.0.0.1')).remaining).toBe(0);
      abort.abort();
      expect(await pending).toBe('AbortError');
      // Still inside the handler: only the closed connection can have released it.
      await vi.waitFor(async () => expect((await limiter.peek('127.0.0.1')).remaining).toBe(1));
      expect(probe.hits).toEqual([]);
      probe.open();
    });

    it('builds the denial with onLimited and statusCode', async () => {
      const { limiter } = limiterOf([{ ...minute, limit: 1 }]);
      const { url } = await start(harness, {
        limiter,
        statusCode: 503,
        onLimited: (_req: TestRequest, details: { retryAfter: number; key: string; problem: { title: string } }) => ({
          body: { error: 'slow down', wait: details.retryAfter, key: details.key, title: details.problem.title },
          contentType: 'application/json',
        }),
      });
      expect((await get(`${url}/ok`)).status).toBe(200);
      const denied = await get(`${url}/ok`);
      expect(denied.status).toBe(503);
      expect(denied.headers['retry-after']).toBe('60');
      expect(denied.headers['content-type']?.split(';')[0]).toBe('application/json');
      expect(denied.body).toEqual({ error: 'slow down', wait: 60, key: '127.0.0.1', title: 'Service Unavailable' });
    });

    it('passes errors of its own (a throwing key) to the framework, without calling Redis', async () => {
      const { limiter, subjects } = limiterOf([minute]);
      const error = new Error('no key for this request');
      const { url, probe } = await start(harness, {
        limiter,
        key: () => {
          throw error;
        },
      });
      const reply = await get(`${url}/ok`);
      expect([reply.status, reply.body]).toEqual([500, harness.errorBody(error)]);
      expect(probe.hits).toEqual([]);
      expect(subjects).toEqual([]);
    });

    it('prices requests with a cost function', async () => {
      const { limiter } = limiterOf([{ ...minute, limit: 10 }]);
      const { url } = await start(harness, {
        limiter,
        cost: (req: TestRequest) => Number(req.headers['x-cost'] ?? 1),
      });
      expect((await get(`${url}/ok`, { 'x-cost': '4' })).headers.ratelimit).toBe('"minute";r=6;t=60');
      expect((await get(`${url}/ok`)).headers.ratelimit).toBe('"minute";r=5;t=60');
      const denied = await get(`${url}/ok`, { 'x-cost': '6' });
      expect([denied.status, denied.headers.ratelimit]).toEqual([429, '"minute";r=5;t=60']);
    });
  });

  describe.each(harnesses.filter((harness) => harness.name.startsWith('Nest')))('$name only', (harness) => {
    it('honours @SkipRateLimit on a controller and @SkipRateLimit(false) on its handler', async () => {
      const { limiter, subjects } = limiterOf([minute]);
      const { url } = await start(harness, { limiter });
      const open = await get(`${url}/public/open`);
      expect([open.status, open.headers.ratelimit]).toEqual([200, undefined]);
      const counted = await get(`${url}/public/counted`);
      expect([counted.status, counted.headers.ratelimit]).toEqual([200, '"minute";r=2;t=60']);
      expect(subjects).toEqual(['127.0.0.1']);
    });

    it('counts a request once when the guard is bound globally and with @UseGuards', async () => {
      const { limiter } = limiterOf([minute]);
      const { url } = await start(harness, { limiter });
      expect((await get(`${url}/guarded`)).headers.ratelimit).toBe('"minute";r=2;t=60');
    });

    it('with globalGuard: false limits only where @UseGuards(RateLimitGuard) is bound', async () => {
      const { limiter } = limiterOf([minute]);
      const { url } = await start(harness, { limiter, globalGuard: false });
      expect((await get(`${url}/ok`)).headers.ratelimit).toBeUndefined();
      expect((await get(`${url}/guarded`)).headers.ratelimit).toBe('"minute";r=2;t=60');
    });
  });

  describe('Fastify only', () => {
    it('holds a concurrency lease taken in preHandler until the response ends', async () => {
      const { limiter } = limiterOf([{ name: 'parallel', algorithm: 'concurrency', limit: 1, leaseTtl: '1m' }]);
      const { url, probe } = await start(fastifyHarness, { limiter, hook: 'preHandler' });
      // A request with a body: its IncomingMessage is done (destroyed) once the body is read.
      const post = { method: 'POST', body: JSON.stringify({ a: 1 }) };
      const first = get(`${url}/slow`, { 'content-type': 'application/json' }, post);
      await probe.entered;
      expect((await get(`${url}/ok`)).status).toBe(429);
      probe.open();
      expect((await first).status).toBe(200);
      await vi.waitFor(async () => expect((await limiter.peek('127.0.0.1')).remaining).toBe(1));
    });

    it('checks in preHandler when asked, so the key can read the parsed body', async () => {
      const { limiter, subjects } = limiterOf([minute]);
      const { url } = await start(fastifyHarness, {
        limiter,
        hook: 'preHandler',
        key: (req: TestRequest) => `user:${(req.body as { user: string }).user}`,
      });
      const reply = await get(
        `${url}/ok`,
        { 'content-type': 'application/json' },
        { method: 'POST', body: JSON.stringify({ user: 'bob' }) },
      );
      expect([reply.status, reply.headers.ratelimit]).toEqual([200, '"minute";r=2;t=60']);
      expect(subjects).toEqual(['user:bob']);
    });
  });
});

describe('HTTP middleware with Redis down', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  describe.each(harnesses)('$name', (harness) => {
    it('fail-open admits without a made-up RateLimit; fail-closed denies with Retry-After', async () => {
      const limiterWith = (mode: 'open' | 'closed') =>
        new RateLimiter({ redis: server.client(), namespace: `down-${mode}`, policies: [minute], failure: { mode } });
      const open = await harness.start({ options: { limiter: limiterWith('open') }, probe: new Probe() });
      const closed = await harness.start({ options: { limiter: limiterWith('closed') }, probe: new Probe() });
      await server.node.kill();
      try {
        const admitted = await get(`${open.url}/ok`);
        expect([admitted.status, admitted.headers['ratelimit-policy'], admitted.headers.ratelimit]).toEqual([
          200,
          policyOf('"minute";q=3;w=60'),
          undefined,
        ]);
        const denied = await get(`${closed.url}/ok`);
        expect(rateLimitFields(denied)).toEqual({
          policy: policyOf('"minute";q=3;w=60'),
          limit: '"minute";r=0;t=1',
          retryAfter: '1',
        });
        expect([denied.status, (denied.body as { retryAfter: number }).retryAfter]).toEqual([429, 1]);
      } finally {
        await Promise.all([open.close(), closed.close()]);
        await server.node.restart();
      }
    });
  });
});
