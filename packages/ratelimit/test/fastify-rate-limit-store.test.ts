import rateLimit from '@fastify/rate-limit';
import { InvalidOptionsError, type RedisConnection } from '@redkit/core';
import { createRateLimitStore, type RateLimitStoreResult } from '@redkit/ratelimit/fastify';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { keysOf, serverTime } from './helpers.js';

// The contract is @fastify/rate-limit 11's: a store class built with the
// plugin's settings, incr(key, cb, timeWindow, max) -> { current, ttl },
// child(routeSettings), read() for `increment: false`. Its own RedisStore is
// the oracle: the same requests must get the same statuses and headers.

interface Settings {
  max: number;
  timeWindow: number;
  continueExceeding?: boolean;
  exponentialBackoff?: boolean;
  skipOnError?: boolean;
}

type StoreChoice = { store: ReturnType<typeof createRateLimitStore> } | { redis: RedisConnection; nameSpace: string };

async function appWith(choice: StoreChoice, settings: Settings): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(rateLimit, { ...settings, ...choice });
  app.get('/ok', async () => ({ ok: true }));
  app.get('/strict', { config: { rateLimit: { max: 1, timeWindow: 60_000 } } }, async () => ({ ok: true }));
  await app.ready();
  return app;
}

const limitHeaders = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'] as const;

async function hit(app: FastifyInstance, path = '/ok') {
  const reply = await app.inject({ method: 'GET', url: path });
  const headers = Object.fromEntries(limitHeaders.map((name) => [name, reply.headers[name]])) as Record<
    (typeof limitHeaders)[number],
    string | undefined
  >;
  return { status: reply.statusCode, ...headers };
}

/** Calls the store's incr() as the plugin does, as a promise. */
function incr(
  store: InstanceType<ReturnType<typeof createRateLimitStore>>,
  key: string,
  timeWindow: number,
  max: number,
): Promise<RateLimitStoreResult> {
  return new Promise((resolve, reject) =>
    store.incr(
      key,
      (error, result) => (error ? reject(error) : resolve(result as RateLimitStoreResult)),
      timeWindow,
      max,
    ),
  );
}

describeTopologies('@fastify/rate-limit store', (t) => {
  let serial = 0;
  const apps: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  const namespaceOf = () => `${t.namespace}:${++serial}`;
  const redkit = (namespace = namespaceOf()) => ({ store: createRateLimitStore({ redis: t.redis, namespace }) });
  const builtIn = () => ({ redis: t.redis, nameSpace: `${namespaceOf()}-` });
  const started = async (choice: StoreChoice, settings: Settings) => {
    const app = await appWith(choice, settings);
    apps.push(app);
    return app;
  };

  describe.each([
    { name: 'plain', settings: { max: 3, timeWindow: 60_000 } },
    { name: 'continueExceeding', settings: { max: 2, timeWindow: 60_000, continueExceeding: true } },
    { name: 'exponentialBackoff', settings: { max: 2, timeWindow: 10_000, exponentialBackoff: true } },
  ])('$name', ({ settings }) => {
    it("sends the same statuses and headers as the plugin's RedisStore, per route too", async () => {
      const ours = await started(redkit(), settings);
      const theirs = await started(builtIn(), settings);
      for (const path of ['/ok', '/ok', '/strict', '/ok', '/ok', '/strict', '/ok', '/ok']) {
        const [mine, peer] = [await hit(ours, path), await hit(theirs, path)];
        expect({ path, ...mine }).toEqual({ path, ...peer });
      }
    });
  });

  it('counts max per window, then denies with the headers of the plugin', async () => {
    const app = await started(redkit(), { max: 2, timeWindow: 60_000 });
    expect(await hit(app)).toEqual({
      status: 200,
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '1',
      'x-ratelimit-reset': '60',
      'retry-after': undefined,
    });
    expect((await hit(app)).status).toBe(200);
    expect(await hit(app)).toEqual({
      status: 429,
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '60',
      'retry-after': '60',
    });
  });

  it('with continueExceeding, each hit over max restarts the window; without it the window runs out', async () => {
    const namespace = namespaceOf();
    const Store = createRateLimitStore({ redis: t.redis, namespace });
    const continuing = new Store({ continueExceeding: true });
    const plain = new Store({});
    const start = await serverTime(t.redis, '{a}');
    await incr(continuing, 'a', 1_000, 1);
    await incr(plain, 'b', 1_000, 1);
    await vi.waitFor(async () => expect(await serverTime(t.redis, '{a}')).toBeGreaterThan(start + 300), {
      timeout: 5_000,
      interval: 25,
    });
    expect(await incr(continuing, 'a', 1_000, 1)).toEqual({ current: 2, ttl: 1_000 });
    const over = await incr(plain, 'b', 1_000, 1);
    expect(over.current).toBe(2);
    expect(over.ttl).toBeLessThanOrEqual(700);
  });

  it('with exponentialBackoff, the n-th hit over max sets the window to timeWindow × 2^(n-1)', async () => {
    const Store = createRateLimitStore({ redis: t.redis, namespace: namespaceOf() });
    const store = new Store({ exponentialBackoff: true });
    const replies: RateLimitStoreResult[] = [];
    for (let i = 0; i < 6; i++) replies.push(await incr(store, 'c', 1_000, 2));
    expect(replies.slice(2)).toEqual([
      { current: 3, ttl: 1_000 },
      { current: 4, ttl: 2_000 },
      { current: 5, ttl: 4_000 },
      { current: 6, ttl: 8_000 },
    ]);
    // Capped at 2^53 - 1 ms, as RedisStore does (ioredis' reply parser may round that last digit up).
    const capped = await incr(store, 'd', 2 ** 52, 0);
    expect(capped.ttl).toBe(2 ** 52);
    const past = await incr(store, 'd', 2 ** 52, 0);
    expect(past.current).toBe(2);
    expect(past.ttl).toBeGreaterThanOrEqual(2 ** 53 - 1);
    expect(past.ttl).toBeLessThanOrEqual(2 ** 53);
  });

  it('reads without counting (createRateLimit with increment: false)', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(rateLimit, { ...redkit(), max: 5, timeWindow: 60_000, global: false });
    const limiter = app.createRateLimit();
    app.get('/check', async (request) => {
      const counted = await limiter(request);
      const read = await limiter(request, { increment: false });
      return {
        counted: 'remaining' in counted ? counted.remaining : null,
        read: 'remaining' in read ? read.remaining : null,
      };
    });
    const body = (await app.inject({ method: 'GET', url: '/check' })).json();
    expect(body).toEqual({ counted: 4, read: 4 });
  });

  it('admits exactly max of many concurrent requests', async () => {
    const app = await started(redkit(), { max: 25, timeWindow: 60_000 });
    const replies = await Promise.all(Array.from({ length: 120 }, () => hit(app)));
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(25);
    expect(
      new Set(replies.filter((reply) => reply.status === 200).map((reply) => reply['x-ratelimit-remaining'])).size,
    ).toBe(25);
  });

  it('rejects bad options naming the field, and writes nothing', async () => {
    const namespace = namespaceOf();
    expect(() => createRateLimitStore({ redis: {} as never })).toThrow(InvalidOptionsError);
    expect(() => createRateLimitStore({ redis: t.redis, namespace: 'a:' })).toThrow(/namespace/);
    expect(() => createRateLimitStore({ redis: t.redis, wat: 1 } as never)).toThrow(/wat/);
    const store = new (createRateLimitStore({ redis: t.redis, namespace }))({});
    for (const [field, args] of [
      ['max', ['k', 1_000, -1]],
      ['max', ['k', 1_000, Number.NaN]],
      ['timeWindow', ['k', -5, 1]],
      ['key', ['', 1_000, 1]],
    ] as const) {
      const error = await incr(store, args[0], args[1], args[2]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues[0]?.path).toBe(field);
    }
    expect(await keysOf(t.redis, namespace)).toEqual([]);
  });
});

describe('@fastify/rate-limit store with Redis down', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  it('surfaces the error with skipOnError: false and lets the request through with skipOnError: true', async () => {
    const store = createRateLimitStore({ redis: server.client(), namespace: 'down', timeout: 200 });
    const strict = await appWith({ store }, { max: 5, timeWindow: 60_000, skipOnError: false });
    const lenient = await appWith({ store }, { max: 5, timeWindow: 60_000, skipOnError: true });
    try {
      expect((await hit(strict)).status).toBe(200);
      await server.node.kill();
      const failed = await strict.inject({ method: 'GET', url: '/ok' });
      expect(failed.statusCode).toBe(500);
      expect(failed.json().code).toBe('E_REDIS_UNAVAILABLE');
      expect((await hit(lenient)).status).toBe(200);
    } finally {
      await Promise.all([strict.close(), lenient.close()]);
      await server.node.restart();
    }
  });
});
