import { type PolicyInput, RateLimiter } from '@redkit/ratelimit';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { serverTime, sleep } from './helpers.js';

describeTopologies('rate limiter behaviour', (t) => {
  const limiter = (policies: PolicyInput[], extra: Partial<ConstructorParameters<typeof RateLimiter>[0]> = {}) =>
    new RateLimiter({ redis: t.redis, namespace: t.namespace, policies, timeout: '10s', ...extra });
  const subject = () => `s-${Math.random()}`;

  describe('multi-policy atomicity', () => {
    it('a request denied by the daily policy consumes nothing from the per-second one', async () => {
      const rl = limiter([
        { name: 'second', algorithm: 'fixed-window', limit: 5, window: '1h', align: 'first-hit' },
        { name: 'day', algorithm: 'fixed-window', limit: 3, window: '1d' },
      ]);
      const who = subject();
      for (let i = 0; i < 3; i++) expect((await rl.limit(who)).allowed).toBe(true);
      const denied = await rl.limit(who);
      expect(denied.allowed).toBe(false);
      expect(denied.policies.map((p) => [p.name, p.allowed, p.remaining])).toEqual([
        ['second', true, 2],
        ['day', false, 0],
      ]);
      expect((await rl.peek(who)).policies[0]?.remaining).toBe(2);
    });

    it('and vice versa', async () => {
      const rl = limiter([
        { name: 'second', algorithm: 'fixed-window', limit: 2, window: '1h', align: 'first-hit' },
        { name: 'day', algorithm: 'sliding-window', limit: 10, window: '1d' },
      ]);
      const who = subject();
      await rl.limit(who);
      await rl.limit(who);
      const denied = await rl.limit(who);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(3_500_000);
      expect((await rl.peek(who)).policies.map((p) => p.remaining)).toEqual([0, 8]);
    });

    it('counts denied requests only when consumeOnDeny is set', async () => {
      const rl = limiter([{ algorithm: 'fixed-window', limit: 2, window: '1h', align: 'first-hit' }], {
        consumeOnDeny: true,
      });
      const who = subject();
      for (let i = 0; i < 5; i++) await rl.limit(who);
      expect(await t.redis.get(`${t.namespace}:{${who}}:p:fixed-window-0:fixed-window`)).toBe('5');
    });
  });

  // Each limiter's script is generated with one set of locals per policy;
  // Lua allows 200 locals per function, so the largest limiter must still compile.
  it.each<PolicyInput>([
    { algorithm: 'fixed-window', limit: 10, window: '1m' },
    { algorithm: 'fixed-window', limit: 10, window: '1m', align: 'first-hit' },
    { algorithm: 'sliding-window', limit: 10, window: '1m' },
    { algorithm: 'sliding-log', limit: 10, window: '1m' },
    { algorithm: 'token-bucket', capacity: 10, refillRate: 1 },
    { algorithm: 'gcra', limit: 10, period: '1m', burst: 10 },
    { algorithm: 'concurrency', limit: 10, leaseTtl: '1m' },
  ])('16 $algorithm policies (the most allowed) run in one script', async (policy) => {
    const policies = Array.from({ length: 16 }, (_, index) => ({ ...policy, name: `p${index}` }));
    const rl = limiter(policies, { blocks: true, consumeOnDeny: true, penalty: { threshold: 1, block: '1s' } });
    const who = subject();
    expect((await rl.limit(who, { cost: 10 })).policies.map((result) => result.remaining)).toEqual(Array(16).fill(0));
    const denied = await rl.limit(who);
    expect(denied.allowed).toBe(false);
    expect(denied.policies).toHaveLength(16);
    expect(denied.blockedForMs).toBeGreaterThan(0);
  });

  describe('windows and refill', () => {
    it('a clock-aligned fixed window opens again at the boundary', async () => {
      const rl = limiter([{ algorithm: 'fixed-window', limit: 2, window: '500ms' }]);
      // Three calls can straddle a boundary of the clock-aligned window on a slow
      // machine (the third then opens the next window); try again with a new subject.
      let who = subject();
      let denied = { allowed: true, retryAfterMs: 0 };
      for (let attempt = 0; attempt < 3 && denied.allowed; attempt++) {
        who = subject();
        await rl.limit(who);
        await rl.limit(who);
        denied = await rl.limit(who);
      }
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(500);
      await sleep(denied.retryAfterMs + 20);
      const next = await rl.limit(who);
      expect(next.allowed).toBe(true);
    });

    it.each<[string, PolicyInput]>([
      ['fixed window (first hit)', { algorithm: 'fixed-window', limit: 3, window: '400ms', align: 'first-hit' }],
      ['sliding window', { algorithm: 'sliding-window', limit: 3, window: '400ms' }],
      ['sliding log', { algorithm: 'sliding-log', limit: 3, window: '400ms' }],
      ['token bucket', { algorithm: 'token-bucket', capacity: 3, refillRate: 1, interval: '150ms' }],
      ['GCRA', { algorithm: 'gcra', limit: 1, period: '150ms', burst: 3 }],
    ])('%s: denied until retryAfterMs, admitted right after it', async (_name, policy) => {
      const rl = limiter([policy]);
      const who = subject();
      for (let i = 0; i < 3; i++) expect((await rl.limit(who)).allowed).toBe(true);
      const denied = await rl.limit(who);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(0);
      expect((await rl.limit(who)).allowed).toBe(false);
      await sleep(denied.retryAfterMs + 25);
      expect((await rl.limit(who)).allowed).toBe(true);
    });

    it('a sliding window weighs the previous window by its remaining overlap', async () => {
      const windowMs = 1_000;
      const rl = limiter([{ algorithm: 'sliding-window', limit: 10, window: windowMs }]);
      const who = subject();
      // Start right at a window boundary (server clock) and fill the window.
      const start = await serverTime(t.redis, `${t.namespace}:{${who}}`);
      await sleep(windowMs - (start % windowMs) + 10);
      for (let i = 0; i < 10; i++) expect((await rl.limit(who)).allowed).toBe(true);
      // Early in the next window the previous one still weighs almost fully.
      const now = await serverTime(t.redis, `${t.namespace}:{${who}}`);
      await sleep(windowMs - (now % windowMs) + 250);
      const peek = await rl.peek(who);
      const elapsed = (await serverTime(t.redis, `${t.namespace}:{${who}}`)) % windowMs;
      // remaining = floor(limit - previous * (1 - elapsed / window)), give or take the ms between calls
      const expected = (e: number) => Math.floor(10 - 10 * (1 - e / windowMs));
      expect(peek.remaining).toBeGreaterThanOrEqual(expected(elapsed - 30));
      expect(peek.remaining).toBeLessThanOrEqual(expected(elapsed));
      expect(peek.remaining).toBeLessThan(10);
    });

    it.each<[string, PolicyInput, number, number]>([
      // name, policy, units available at once, units per ms afterwards
      ['token bucket', { algorithm: 'token-bucket', capacity: 5, refillRate: 20, interval: '1s' }, 5, 20 / 1000],
      ['GCRA', { algorithm: 'gcra', limit: 20, period: '1s', burst: 5 }, 5, 20 / 1000],
    ])('%s admits what its rate allows over a measured interval', async (_name, policy, burst, rate) => {
      const rl = limiter([policy]);
      const who = subject();
      const tag = `${t.namespace}:{${who}}`;
      const started = await serverTime(t.redis, tag);
      let admitted = 0;
      let last = started;
      while (last - started < 1_000) {
        if ((await rl.limit(who)).allowed) admitted++;
        last = await serverTime(t.redis, tag);
      }
      const elapsed = last - started;
      // Units that became available during the run; the last fraction may not have been taken yet.
      const expected = burst + rate * elapsed;
      expect(admitted).toBeGreaterThanOrEqual(Math.floor(expected) - 1);
      expect(admitted).toBeLessThanOrEqual(Math.ceil(expected));
    });
  });

  describe('peek, refund, reset, block and penalties', () => {
    it('peek consumes nothing', async () => {
      const rl = limiter([{ algorithm: 'sliding-log', limit: 3, window: '1h' }]);
      const who = subject();
      await rl.limit(who);
      for (let i = 0; i < 5; i++) expect((await rl.peek(who)).remaining).toBe(2);
      expect((await rl.peek(who, { cost: 3 })).allowed).toBe(false);
      expect((await rl.limit(who)).remaining).toBe(1);
    });

    it.each<PolicyInput>([
      { algorithm: 'fixed-window', limit: 5, window: '1h' },
      { algorithm: 'sliding-window', limit: 5, window: '1d' },
      { algorithm: 'sliding-log', limit: 5, window: '1h' },
      { algorithm: 'token-bucket', capacity: 5, refillRate: 1, interval: '1h' },
      { algorithm: 'gcra', limit: 1, period: '1h', burst: 5 },
    ])('refund gives units back ($algorithm)', async (policy) => {
      const rl = limiter([policy]);
      const who = subject();
      await rl.limit(who, { cost: 3 });
      expect((await rl.peek(who)).remaining).toBe(2);
      await rl.refund(who, { cost: 2 });
      expect((await rl.peek(who)).remaining).toBe(4);
    });

    it('reset forgets the subject', async () => {
      const rl = limiter([{ algorithm: 'fixed-window', limit: 1, window: '1h' }]);
      const who = subject();
      await rl.limit(who);
      expect((await rl.limit(who)).allowed).toBe(false);
      await rl.reset(who);
      expect((await rl.limit(who)).allowed).toBe(true);
    });

    it('block denies everything for its duration', async () => {
      const rl = limiter([{ algorithm: 'fixed-window', limit: 100, window: '1h' }], { blocks: true });
      const who = subject();
      await rl.block(who, '300ms');
      const denied = await rl.limit(who);
      expect(denied.allowed).toBe(false);
      expect(denied.blockedForMs).toBeGreaterThan(200);
      expect(denied.retryAfterMs).toBe(denied.blockedForMs);
      await sleep(denied.blockedForMs + 20);
      expect((await rl.limit(who)).allowed).toBe(true);
    });

    it('repeated denials block the subject, for longer each time', async () => {
      const blocks: number[] = [];
      const rl = limiter([{ algorithm: 'fixed-window', limit: 1, window: '1h', align: 'first-hit' }], {
        penalty: { threshold: 2, within: '1m', block: '200ms', multiplier: 3 },
      });
      rl.events.on('blocked', ({ blockMs }) => blocks.push(blockMs));
      const who = subject();
      await rl.limit(who);
      expect((await rl.limit(who)).blockedForMs).toBe(0); // first strike
      const first = await rl.limit(who); // second strike: blocked
      expect(first.blockedForMs).toBe(200);
      expect((await rl.limit(who)).blockedForMs).toBeGreaterThan(100); // still blocked
      await sleep(220);
      await rl.limit(who);
      const second = await rl.limit(who);
      expect(second.blockedForMs).toBe(600);
      expect(blocks).toEqual([200, 600]);
    });
  });

  describe('concurrency leases', () => {
    it('release gives the slot back at once', async () => {
      const rl = limiter([{ algorithm: 'concurrency', limit: 1, leaseTtl: '1m' }]);
      const who = subject();
      const first = await rl.limit(who);
      expect(first.lease).toBeDefined();
      expect((await rl.limit(who)).allowed).toBe(false);
      await first.lease?.release();
      await first.lease?.release(); // idempotent
      expect((await rl.limit(who)).allowed).toBe(true);
    });

    it("a crashed holder's lease expires after its ttl", async () => {
      const rl = limiter([{ algorithm: 'concurrency', limit: 2, leaseTtl: '300ms' }]);
      const who = subject();
      await rl.limit(who); // never released
      await rl.limit(who); // never released
      const denied = await rl.limit(who);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(300);
      await sleep(denied.retryAfterMs + 20);
      expect((await rl.limit(who)).allowed).toBe(true);
    });
  });

  describe('modes', () => {
    it('dry run admits everything but reports what the limits decided', async () => {
      const denials: boolean[] = [];
      const rl = limiter([{ algorithm: 'fixed-window', limit: 1, window: '1h' }], { dryRun: true });
      rl.events.on('denied', ({ dryRun }) => denials.push(dryRun));
      const who = subject();
      await rl.limit(who);
      const second = await rl.limit(who);
      expect(second.allowed).toBe(true);
      expect(second.wouldAllow).toBe(false);
      expect(denials).toEqual([true]);
    });

    it('the denied cache answers without Redis until the retry time, and never longer', async () => {
      const rl = limiter([{ algorithm: 'fixed-window', limit: 1, window: '300ms', align: 'first-hit' }], {
        deniedCache: { maxSubjects: 100 },
      });
      const who = subject();
      await rl.limit(who);
      const denied = await rl.limit(who);
      expect(denied.decidedBy).toBe('redis');
      const cached = await rl.limit(who);
      expect(cached.decidedBy).toBe('denied-cache');
      expect(cached.allowed).toBe(false);
      await sleep(denied.retryAfterMs + 10);
      const after = await rl.limit(who);
      expect(after.decidedBy).toBe('redis');
      expect(after.allowed).toBe(true);
    });
  });
});
