import { InvalidOptionsError } from '@redkit/core';
import { RedkitStore } from '@redkit/ratelimit/express';
import { keysOf } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { rateLimit as rateLimit8 } from 'express-rate-limit';
import { rateLimit as rateLimit7 } from 'express-rate-limit7';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ExpressHandler, expressVersions, listen, type RunningApp, request } from './express-app.js';

/** express-rate-limit's options, as far as these tests set them. */
interface PeerOptions {
  windowMs: number;
  limit: number;
  store: RedkitStore;
  standardHeaders?: 'draft-6' | 'draft-7' | 'draft-8';
  legacyHeaders?: boolean;
  skipSuccessfulRequests?: boolean;
  skipFailedRequests?: boolean;
  keyGenerator?: (req: { headers: Record<string, unknown> }) => string;
}
type PeerMiddleware = ExpressHandler & { resetKey(key: string): void };

const peers = [
  { name: 'express-rate-limit 8', rateLimit: rateLimit8 as unknown as (options: PeerOptions) => PeerMiddleware },
  { name: 'express-rate-limit 7', rateLimit: rateLimit7 as unknown as (options: PeerOptions) => PeerMiddleware },
];

/** Requests are told apart by this header, so one test client can be many. */
const byClientHeader = (req: { headers: Record<string, unknown> }) => `client-${String(req.headers['x-client'])}`;

describeTopologies('RedkitStore (express-rate-limit store)', (t) => {
  let serial = 0;
  const running: RunningApp[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.close()));
    vi.restoreAllMocks();
  });

  const prefix = () => `${t.namespace}:${++serial}`;

  /** The peer's complaints (its validations log through console). */
  function peerComplaints() {
    const logged: unknown[] = [];
    vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args));
    vi.spyOn(console, 'warn').mockImplementation((...args) => void logged.push(args));
    return logged;
  }

  describe.each(peers)('$name', (peer) => {
    describe.each(expressVersions)('$name', (express) => {
      async function serve(options: Omit<PeerOptions, 'store'>, status = 200) {
        const store = new RedkitStore({ redis: t.redis, prefix: prefix() });
        const limiter = peer.rateLimit({ ...options, store });
        const app = express.create();
        app.use(limiter);
        app.get('/', (_req, res) => res.status(status).json({ ok: status < 400 }));
        // On IPv4 only, so both majors key the test client as 127.0.0.1 (7 keeps `::ffff:` prefixes).
        const server = await listen(app, '127.0.0.1');
        running.push(server);
        return { url: server.url, store, limiter };
      }

      it('admits exactly the limit, then 429 with the peer headers; the window is on one cluster-safe key', async () => {
        const complaints = peerComplaints();
        const { url, store } = await serve({
          windowMs: 60_000,
          limit: 3,
          standardHeaders: 'draft-7',
          legacyHeaders: true,
        });
        const replies = [];
        for (let i = 0; i < 5; i++) replies.push(await request(url));
        expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 429, 429]);
        expect(replies.map((reply) => reply.headers.ratelimit)).toEqual([
          'limit=3, remaining=2, reset=60',
          'limit=3, remaining=1, reset=60',
          'limit=3, remaining=0, reset=60',
          'limit=3, remaining=0, reset=60',
          'limit=3, remaining=0, reset=60',
        ]);
        expect(replies[0]?.headers['ratelimit-policy']).toBe('3;w=60');
        expect(replies[0]?.headers['x-ratelimit-limit']).toBe('3');
        expect(replies[4]?.headers['retry-after']).toBe('60');
        expect(replies[4]?.body).toBe('Too many requests, please try again later.');
        // Hits over the limit are counted too, as the peer's own stores do.
        expect((await store.get('127.0.0.1'))?.totalHits).toBe(5);
        expect(await keysOf(t.redis, store.prefix)).toEqual([`${store.prefix}:{127.0.0.1}`]);
        const ttl = await t.redis.pttl(`${store.prefix}:{127.0.0.1}`);
        expect(ttl).toBeGreaterThan(50_000);
        expect(ttl).toBeLessThanOrEqual(60_000);
        // No validation of the peer (store reuse, double count, positive hits, reset time) complained.
        expect(complaints).toEqual([]);
      });

      it('refunds successful requests with skipSuccessfulRequests', async () => {
        const { url, store } = await serve({ windowMs: 60_000, limit: 2, skipSuccessfulRequests: true });
        for (let i = 0; i < 4; i++) expect((await request(url)).status).toBe(200);
        // The refund runs when the response has finished, while the client reads it.
        await vi.waitFor(async () => expect((await store.get('127.0.0.1'))?.totalHits).toBe(0));
      });

      it('refunds failed requests with skipFailedRequests and counts successful ones', async () => {
        const failing = await serve({ windowMs: 60_000, limit: 2, skipFailedRequests: true }, 500);
        for (let i = 0; i < 4; i++) expect((await request(failing.url)).status).toBe(500);
        await vi.waitFor(async () => expect((await failing.store.get('127.0.0.1'))?.totalHits).toBe(0));

        const passing = await serve({ windowMs: 60_000, limit: 2, skipFailedRequests: true });
        expect((await request(passing.url)).status).toBe(200);
        expect((await request(passing.url)).status).toBe(200);
        expect((await request(passing.url)).status).toBe(429);
        // The 429 itself is a failed request: refunded, so the count stays at the limit.
        await vi.waitFor(async () => expect((await passing.store.get('127.0.0.1'))?.totalHits).toBe(2));
      });

      it('starts over after resetKey', async () => {
        const { url, limiter } = await serve({ windowMs: 60_000, limit: 1 });
        expect((await request(url)).status).toBe(200);
        expect((await request(url)).status).toBe(429);
        await limiter.resetKey('127.0.0.1');
        const reply = await request(url);
        expect(reply.status).toBe(200);
      });

      it('admits exactly the limit per client when many clients send at once', async () => {
        const { url } = await serve({ windowMs: 60_000, limit: 5, keyGenerator: byClientHeader });
        const clients = 8;
        const perClient = 12;
        const replies = await Promise.all(
          Array.from({ length: clients * perClient }, (_, i) => request(url, { 'x-client': String(i % clients) })),
        );
        const admitted = new Map<string, number>();
        replies.forEach((reply, i) => {
          expect([200, 429]).toContain(reply.status);
          if (reply.status === 200) admitted.set(String(i % clients), (admitted.get(String(i % clients)) ?? 0) + 1);
        });
        expect([...admitted.values()]).toEqual(Array(clients).fill(5));
      });
    });
  });

  describe('store calls', () => {
    it('counts every hit exactly once across clients racing on one key', async () => {
      const namespace = prefix();
      // Two stores on two connections, as two app servers would be.
      const stores = [t.client(), t.client()].map((redis) => new RedkitStore({ redis, prefix: namespace }));
      for (const store of stores) store.init({ windowMs: 60_000 });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (stores[i % 2] as RedkitStore).increment('racer')),
      );
      const hits = results.map((result) => result.totalHits).sort((a, b) => a - b);
      expect(hits).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const resets = results.map((result) => result.resetTime?.getTime() ?? 0);
      // One window for all: every reply names the same end, give or take the time between replies.
      expect(Math.max(...resets) - Math.min(...resets)).toBeLessThan(1_000);
    });

    it('get reads without counting, and reports no window for an unknown key', async () => {
      const store = new RedkitStore({ redis: t.redis, prefix: prefix() });
      store.init({ windowMs: 10_000 });
      expect(await store.get('nobody')).toBeUndefined();
      const before = Date.now();
      await store.increment('someone');
      const info = await store.get('someone');
      expect(info?.totalHits).toBe(1);
      expect(info?.resetTime?.getTime()).toBeGreaterThan(before);
      expect(info?.resetTime?.getTime()).toBeLessThanOrEqual(Date.now() + 10_000);
      expect((await store.get('someone'))?.totalHits).toBe(1);
    });

    it('decrement never goes below zero and never recreates an ended window', async () => {
      const store = new RedkitStore({ redis: t.redis, prefix: prefix() });
      store.init({ windowMs: 60_000 });
      await store.decrement('ghost');
      expect(await keysOf(t.redis, store.prefix)).toEqual([]);
      await store.increment('once');
      await store.decrement('once');
      await store.decrement('once');
      expect((await store.get('once'))?.totalHits).toBe(0);
      // The window keeps its expiry: the count still ends with it.
      expect(await t.redis.pttl(`${store.prefix}:{once}`)).toBeGreaterThan(0);
      expect((await store.increment('once')).totalHits).toBe(1);
    });

    it('escapes keys, so no client key reaches another one or another slot', async () => {
      const store = new RedkitStore({ redis: t.redis, prefix: prefix() });
      store.init({ windowMs: 60_000 });
      await store.increment('a}:{b');
      await store.increment('2001:db8::/56');
      expect(await keysOf(t.redis, store.prefix)).toEqual(
        [`${store.prefix}:{2001%3Adb8%3A%3A/56}`, `${store.prefix}:{a%7D%3A%7Bb}`].sort(),
      );
    });
  });

  describe('bad input', () => {
    const invalid = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionsError);
        return (error as Error).message;
      }
      throw new Error('expected InvalidOptionsError');
    };

    it.each([
      ['no redis', { redis: undefined }, 'redis'],
      ['a bad prefix', { prefix: 'a b' }, 'prefix: must start with a letter or digit'],
      ['a prefix ending in a colon', { prefix: 'rl:' }, 'prefix: must not end in ":"'],
      ['a bad timeout', { timeout: 0 }, 'timeout'],
      ['an unknown option', { sendCommand: () => 1 }, 'Unrecognized key: "sendCommand"'],
    ])('constructor: %s', (_name, options, field) => {
      const message = invalid(() => new RedkitStore({ redis: t.redis, ...options } as never));
      expect(message).toContain('RedkitStore');
      expect(message).toContain(field);
    });

    it('init: a window that is not a positive whole number of ms', () => {
      const store = new RedkitStore({ redis: t.redis, prefix: prefix() });
      for (const windowMs of [0, -5, 1.5, Number.NaN, '60000', undefined]) {
        expect(invalid(() => store.init({ windowMs } as never))).toContain('windowMs');
      }
    });

    it('calls with a bad key or before init write nothing', async () => {
      const store = new RedkitStore({ redis: t.redis, prefix: prefix() });
      await expect(store.increment('x')).rejects.toThrow(/windowMs: is unknown: init\(\) was not called/);
      store.init({ windowMs: 1_000 });
      for (const key of ['', 'x'.repeat(513), 42]) {
        await expect(store.increment(key as never)).rejects.toThrow(/RedkitStore.increment\(\).*key: must be a string/);
        await expect(store.decrement(key as never)).rejects.toBeInstanceOf(InvalidOptionsError);
        await expect(store.get(key as never)).rejects.toBeInstanceOf(InvalidOptionsError);
        await expect(store.resetKey(key as never)).rejects.toBeInstanceOf(InvalidOptionsError);
      }
      expect(await keysOf(t.redis, store.prefix)).toEqual([]);
    });
  });
});
