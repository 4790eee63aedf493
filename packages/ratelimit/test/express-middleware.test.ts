import { InvalidOptionsError } from '@redkit/core';
import { type PolicyInput, RateLimiter } from '@redkit/ratelimit';
import { type ExpressRateLimitOptions, partitionKey, rateLimit } from '@redkit/ratelimit/express';
import { keysOf } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { rateLimit as peerRateLimit } from 'express-rate-limit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ExpressHandler,
  type ExpressRequest,
  type ExpressResponse,
  expressVersions,
  listen,
  type Reply,
  type RunningApp,
  request,
} from './express-app.js';

const minute: PolicyInput = { name: 'minute', algorithm: 'fixed-window', limit: 3, window: '1m', align: 'first-hit' };

type Options = Omit<ExpressRateLimitOptions<ExpressRequest>, 'limiter'>;

/** The rate-limit fields of a reply (and Date, which is always there). */
const rateLimitHeaders = (reply: Reply) =>
  Object.fromEntries(
    Object.entries(reply.headers).filter(([name]) => /^(x-)?ratelimit|^retry-after$/.test(name)),
  ) as Record<string, string>;

describeTopologies('Express rateLimit() for express-rate-limit users', (t) => {
  let serial = 0;
  const running: RunningApp[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.close()));
    vi.restoreAllMocks();
  });

  function limiterOf(policies: PolicyInput[] = [minute]) {
    // Tests check decisions, not latency: a busy moment must not fail open.
    return new RateLimiter({ redis: t.redis, namespace: `${t.namespace}:${++serial}`, policies, timeout: '10s' });
  }

  describe.each(expressVersions)('$name', (express) => {
    /** An app with the middleware in front of `/` (200), `/fail` (500) and `/info` (echoes req.rateLimit). */
    async function serve(middleware: ExpressHandler, settings: Record<string, unknown> = {}) {
      const app = express.create();
      for (const [name, value] of Object.entries(settings)) app.set(name, value);
      app.use(middleware);
      app.get('/', (_req, res) => res.json({ ok: true }));
      app.get('/fail', (_req, res) => res.status(500).json({ ok: false }));
      app.get('/info', (req, res) => res.json(req.rateLimit));
      // Four parameters: Express tells error handlers by their arity.
      app.use((error: Error, _req: ExpressRequest, res: ExpressResponse, _next: () => void) =>
        res.status(500).json({ error: error.message }),
      );
      // IPv4 only, so express-rate-limit and redkit both see the client as 127.0.0.1.
      const server = await listen(app, '127.0.0.1');
      running.push(server);
      return server.url;
    }

    const ours = (options: Options = {}, limiter = limiterOf()) =>
      rateLimit<ExpressRequest>({ limiter, ...options }) as unknown as ExpressHandler;

    async function replies(url: string, count: number, headers: Record<string, string> = {}) {
      const all: Reply[] = [];
      for (let i = 0; i < count; i++) all.push(await request(url, headers));
      return all;
    }

    describe.each(['draft-6', 'draft-7'] as const)('standardHeaders: %s', (draft) => {
      it('sends the same fields as express-rate-limit, request by request', async () => {
        const peer = peerRateLimit({ windowMs: 60_000, limit: 3, standardHeaders: draft, legacyHeaders: false });
        const peerUrl = await serve(peer as unknown as ExpressHandler);
        const ourUrl = await serve(ours({ standardHeaders: draft }));
        const expected = (await replies(peerUrl, 4)).map(rateLimitHeaders);
        const actual = (await replies(ourUrl, 4)).map(rateLimitHeaders);
        expect(actual).toEqual(expected);
        // What the draft says, spelled out (so the comparison above cannot pass on two empty sets).
        expect(actual[0]).toEqual(
          draft === 'draft-6'
            ? {
                'ratelimit-policy': '3;w=60',
                'ratelimit-limit': '3',
                'ratelimit-remaining': '2',
                'ratelimit-reset': '60',
              }
            : { 'ratelimit-policy': '3;w=60', ratelimit: 'limit=3, remaining=2, reset=60' },
        );
        expect(actual[3]?.['retry-after']).toBe('60');
      });
    });

    it('standardHeaders: true is draft-6, as in express-rate-limit; false sends none', async () => {
      const draft6 = rateLimitHeaders(await request(await serve(ours({ standardHeaders: true }))));
      expect(Object.keys(draft6).sort()).toEqual([
        'ratelimit-limit',
        'ratelimit-policy',
        'ratelimit-remaining',
        'ratelimit-reset',
      ]);
      expect(rateLimitHeaders(await request(await serve(ours({ standardHeaders: false }))))).toEqual({});
    });

    it('draft-8 (the default) names the policy and carries a partition key per client', async () => {
      const url = await serve(ours({ standardHeaders: 'draft-8' }), { 'trust proxy': 1 });
      const alice = await request(url, { 'x-forwarded-for': '203.0.113.1' });
      const bob = await request(url, { 'x-forwarded-for': '203.0.113.2' });
      expect(rateLimitHeaders(alice)).toEqual({
        'ratelimit-policy': `"minute";q=3;w=60;pk=:${partitionKey('203.0.113.1')}:`,
        ratelimit: '"minute";r=2;t=60',
      });
      expect(bob.headers['ratelimit-policy']).toBe(`"minute";q=3;w=60;pk=:${partitionKey('203.0.113.2')}:`);
      expect(partitionKey('203.0.113.1')).not.toBe(partitionKey('203.0.113.2'));
      // The default is the same draft-8 form.
      const byDefault = await request(await serve(ours()));
      expect(byDefault.headers['ratelimit-policy']).toBe(`"minute";q=3;w=60;pk=:${partitionKey('127.0.0.1')}:`);
    });

    it('legacyHeaders sends the X-RateLimit-* fields express-rate-limit sends', async () => {
      const peer = peerRateLimit({ windowMs: 60_000, limit: 3, standardHeaders: false, legacyHeaders: true });
      const peerReplies = await replies(await serve(peer as unknown as ExpressHandler), 4);
      const ourReplies = await replies(await serve(ours({ standardHeaders: false, legacyHeaders: true })), 4);
      const withoutReset = (reply: Reply) => {
        const { 'x-ratelimit-reset': reset, ...rest } = rateLimitHeaders(reply);
        return { ...rest, reset: typeof reset };
      };
      expect(ourReplies.map(withoutReset)).toEqual(peerReplies.map(withoutReset));
      // Reset is epoch seconds of the window's end: both windows started within these few requests.
      const resets = [...peerReplies, ...ourReplies].map((reply) => Number(reply.headers['x-ratelimit-reset']));
      expect(Math.max(...resets) - Math.min(...resets)).toBeLessThanOrEqual(2);
    });

    it('sets req.rateLimit', async () => {
      const url = await serve(ours());
      await request(url);
      const before = Date.now();
      const reply = await request(`${url}/info`);
      const info = reply.body as { limit: number; used: number; remaining: number; resetTime: string; key: string };
      expect({ ...info, resetTime: undefined }).toEqual({
        limit: 3,
        used: 2,
        remaining: 1,
        resetTime: undefined,
        key: '127.0.0.1',
      });
      const reset = Date.parse(info.resetTime);
      expect(reset).toBeGreaterThan(before + 50_000);
      expect(reset).toBeLessThanOrEqual(Date.now() + 60_000);
    });

    it('skipSuccessfulRequests gives back successful requests once they finish, and counts failed ones', async () => {
      const limiter = limiterOf();
      const url = await serve(ours({ skipSuccessfulRequests: true }, limiter));
      for (let i = 0; i < 5; i++) expect((await request(url)).status).toBe(200);
      // The refund runs when the response has finished, while the client reads it.
      await vi.waitFor(async () => expect((await limiter.peek('127.0.0.1')).remaining).toBe(3));
      expect((await request(`${url}/fail`)).status).toBe(500);
      await vi.waitFor(async () => expect((await limiter.peek('127.0.0.1')).remaining).toBe(2));
    });

    it('skipFailedRequests gives back failed requests and counts successful ones; a denial is not given back', async () => {
      const limiter = limiterOf();
      const url = await serve(ours({ skipFailedRequests: true }, limiter));
      for (let i = 0; i < 5; i++) expect((await request(`${url}/fail`)).status).toBe(500);
      await vi.waitFor(async () => expect((await limiter.peek('127.0.0.1')).remaining).toBe(3));
      for (let i = 0; i < 3; i++) expect((await request(url)).status).toBe(200);
      // The 429 took nothing, so giving it back would hand out a unit that was never taken.
      expect((await request(url)).status).toBe(429);
      expect((await request(`${url}/fail`)).status).toBe(429);
      expect((await limiter.peek('127.0.0.1')).remaining).toBe(0);
    });

    it('requestWasSuccessful decides what counts as success', async () => {
      const limiter = limiterOf();
      const url = await serve(
        ours({ skipFailedRequests: true, requestWasSuccessful: (_req, res) => res.statusCode < 500 }, limiter),
      );
      expect((await request(`${url}/fail`)).status).toBe(500);
      await vi.waitFor(async () => expect((await limiter.peek('127.0.0.1')).remaining).toBe(3));
    });

    it('message: a string, an object, or a function of the request and response', async () => {
      const limiter = limiterOf([{ ...minute, limit: 1 }]);
      const text = await serve(ours({ message: 'Too many requests, please try again later.' }, limiter));
      await request(text);
      const denied = await request(text);
      expect([denied.status, denied.body]).toEqual([429, 'Too many requests, please try again later.']);
      // Express's res.send, as express-rate-limit sends it.
      expect(denied.headers['content-type']).toBe('text/html; charset=utf-8');

      const object = await serve(ours({ message: { error: 'slow down' } }, limiterOf([{ ...minute, limit: 1 }])));
      await request(object);
      expect((await request(object)).body).toEqual({ error: 'slow down' });

      const fromRequest = await serve(
        ours(
          { message: async (req) => ({ error: `slow down, ${String(req.headers['x-name'])}` }), statusCode: 503 },
          limiterOf([{ ...minute, limit: 1 }]),
        ),
      );
      await request(fromRequest);
      const named = await request(fromRequest, { 'x-name': 'ada' });
      expect([named.status, named.body, named.headers['retry-after']]).toEqual([
        503,
        { error: 'slow down, ada' },
        '60',
      ]);
    });

    it('handler sends the denial itself, with status and headers already set', async () => {
      const url = await serve(
        ours(
          {
            statusCode: 503,
            handler: (req, res, _next, details) => {
              (res as unknown as { json(body: unknown): void }).json({
                status: res.statusCode,
                key: details.key,
                retryAfter: details.retryAfter,
                limit: (req.rateLimit as { limit: number }).limit,
              });
            },
          },
          limiterOf([{ ...minute, limit: 1 }]),
        ),
      );
      await request(url);
      const denied = await request(url);
      expect([denied.status, denied.body]).toEqual([503, { status: 503, key: '127.0.0.1', retryAfter: 60, limit: 1 }]);
      expect(denied.headers.ratelimit).toBe('"minute";r=0;t=60');
    });

    it('a handler that throws reaches the error handler', async () => {
      const url = await serve(
        ours(
          {
            handler: async () => {
              throw new Error('handler broke');
            },
          },
          limiterOf([{ ...minute, limit: 1 }]),
        ),
      );
      await request(url);
      const reply = await request(url);
      expect([reply.status, reply.body]).toEqual([500, { error: 'handler broke' }]);
    });

    it('warns once when X-Forwarded-For arrives and trust proxy is off', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const url = await serve(ours());
      for (let i = 0; i < 3; i++) await request(url, { 'x-forwarded-for': '203.0.113.7' });
      const ours1 = warn.mock.calls.filter(([, options]) => isForwardedWarning(options));
      expect(ours1).toHaveLength(1);
      expect(String(ours1[0]?.[0])).toContain('trust proxy');
    });

    it('does not warn when trust proxy is set, or when the key does not read the IP', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const trusted = await serve(ours(), { 'trust proxy': 1 });
      const byHeader = await serve(ours({ key: (req) => String(req.headers['x-api-key']) }));
      await request(trusted, { 'x-forwarded-for': '203.0.113.7' });
      await request(byHeader, { 'x-forwarded-for': '203.0.113.7', 'x-api-key': 'k1' });
      expect(warn.mock.calls.filter(([, options]) => isForwardedWarning(options))).toEqual([]);
    });
  });

  describe('bad input', () => {
    const namespace = `${t.namespace}:bad-input`;
    const limiter = new RateLimiter({ redis: t.redis, namespace, policies: [minute] });
    it.each([
      ['an unknown draft', { standardHeaders: 'draft-9' }, 'standardHeaders: '],
      ['legacyHeaders not a boolean', { legacyHeaders: 'yes' }, 'legacyHeaders: '],
      ['a message that is a number', { message: 42 }, 'message: must be a string, an object, or a function'],
      ['handler not a function', { handler: 'send' }, 'handler: must be a function'],
      ['skipSuccessfulRequests not a boolean', { skipSuccessfulRequests: 1 }, 'skipSuccessfulRequests: '],
      ['skipFailedRequests not a boolean', { skipFailedRequests: 'no' }, 'skipFailedRequests: '],
      [
        'requestWasSuccessful not a function',
        { requestWasSuccessful: true },
        'requestWasSuccessful: must be a function',
      ],
      [
        'headers and standardHeaders',
        { headers: { legacy: true }, standardHeaders: 'draft-7' },
        'standardHeaders: give either headers',
      ],
      [
        'message and handler',
        { message: 'no', handler: () => {} },
        'handler: give only one of onLimited, message and handler',
      ],
      ['onLimited and message', { onLimited: () => ({ body: 'x' }), message: 'no' }, 'message: give only one of'],
      ["express-rate-limit's windowMs", { windowMs: 60_000 }, '(root): Unrecognized key: "windowMs"'],
    ])('%s', async (_name, options, field) => {
      let error: unknown;
      try {
        rateLimit({ limiter, ...options } as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toContain(`rateLimit(): invalid options: ${field}`);
      expect(await keysOf(t.redis, namespace)).toEqual([]);
    });
  });
});

function isForwardedWarning(options: unknown): boolean {
  return (options as { code?: string } | undefined)?.code === 'REDKIT_UNEXPECTED_X_FORWARDED_FOR';
}
