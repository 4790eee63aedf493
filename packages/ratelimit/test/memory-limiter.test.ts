import { describe, expect, it } from 'vitest';
import { MemoryLimiter } from '../src/memory-limiter.js';
import { type Policy, type PolicyInput, rateLimiterOptionsSchema } from '../src/options.js';

/** Resolves policies the way RateLimiter does (defaults, names). */
function resolve(policies: PolicyInput[]): Policy[] {
  return rateLimiterOptionsSchema.parse({ redis: { defineCommand() {}, call() {}, duplicate() {} }, policies })
    .policies;
}

function harness(policies: PolicyInput[], start = 1_000_000) {
  let now = start;
  const limiter = new MemoryLimiter(resolve(policies), 100, () => now);
  let seq = 0;
  return {
    advance: (ms: number) => {
      now += ms;
    },
    at: (ms: number) => {
      now = ms;
    },
    limit: (cost = 1) => limiter.check('s', cost, { consume: true, consumeOnDeny: false, id: String(seq++) }),
    peek: (cost = 1) => limiter.check('s', cost, { consume: false, consumeOnDeny: false, id: '' }),
    limiter,
  };
}

describe('in-process fallback limiter (exact arithmetic with a controlled clock)', () => {
  it('fixed window aligned to the clock resets exactly at the boundary', () => {
    const h = harness([{ algorithm: 'fixed-window', limit: 2, window: 1_000 }], 10_000);
    h.at(10_400);
    expect(h.limit().allowed).toBe(true);
    expect(h.limit().allowed).toBe(true);
    const denied = h.limit();
    expect(denied.allowed).toBe(false);
    expect(denied.policies[0]?.retryAfterMs).toBe(600);
    h.at(10_999);
    expect(h.limit().allowed).toBe(false);
    h.at(11_000);
    expect(h.limit().policies[0]?.remaining).toBe(1);
  });

  it('sliding window counter weighs the previous window linearly', () => {
    const h = harness([{ algorithm: 'sliding-window', limit: 10, window: 1_000 }], 0);
    h.at(5_000);
    for (let i = 0; i < 10; i++) h.limit();
    // 25% into the next window, 75% of the previous 10 still count.
    h.at(6_250);
    expect(h.peek().policies[0]?.remaining).toBe(2);
    expect(h.limit().allowed).toBe(true);
    expect(h.limit().allowed).toBe(true);
    const denied = h.limit();
    expect(denied.allowed).toBe(false);
    // used = 7.5 + 2 = 9.5; one more fits when 10·(1 − e/1000) + 2 + 1 ≤ 10 → e ≥ 300
    expect(denied.policies[0]?.retryAfterMs).toBe(50);
    h.at(6_299);
    expect(h.limit().allowed).toBe(false);
    h.at(6_300);
    expect(h.limit().allowed).toBe(true);
  });

  it('sliding log frees exactly the oldest entries', () => {
    const h = harness([{ algorithm: 'sliding-log', limit: 3, window: 1_000 }], 0);
    h.at(100);
    h.limit();
    h.at(200);
    h.limit();
    h.at(300);
    h.limit();
    h.at(400);
    expect(h.limit().policies[0]?.retryAfterMs).toBe(700);
    // A request of cost 2 must wait for the two oldest entries.
    expect(h.limit(2).policies[0]?.retryAfterMs).toBe(800);
    h.at(1_100);
    expect(h.limit().allowed).toBe(true);
  });

  it('token bucket refills continuously, keeping fractions', () => {
    const h = harness([{ algorithm: 'token-bucket', capacity: 4, refillRate: 2, interval: 1_000 }], 0);
    for (let i = 0; i < 4; i++) expect(h.limit().allowed).toBe(true);
    const denied = h.limit();
    expect(denied.policies[0]?.retryAfterMs).toBe(500);
    h.advance(250); // half a token
    expect(h.limit().allowed).toBe(false);
    h.advance(250); // the other half
    expect(h.limit().allowed).toBe(true);
    h.advance(10_000);
    expect(h.peek().policies[0]?.remaining).toBe(4); // capped at capacity
  });

  it('GCRA spaces requests at the emission interval after the burst', () => {
    const h = harness([{ algorithm: 'gcra', limit: 10, period: 1_000, burst: 3 }], 0);
    for (let i = 0; i < 3; i++) expect(h.limit().allowed).toBe(true);
    const denied = h.limit();
    expect(denied.allowed).toBe(false);
    expect(denied.policies[0]?.retryAfterMs).toBe(100);
    h.advance(100);
    expect(h.limit().allowed).toBe(true);
    expect(h.limit().allowed).toBe(false);
  });

  it('concurrency leases count until released or expired', () => {
    const h = harness([{ algorithm: 'concurrency', limit: 1, leaseTtl: 500 }], 0);
    expect(h.limit().allowed).toBe(true);
    expect(h.limit().allowed).toBe(false);
    h.limiter.release('s', '0', 1);
    expect(h.limit().allowed).toBe(true);
    h.advance(500);
    expect(h.limit().allowed).toBe(true);
  });

  it('consumes from every policy or none', () => {
    const h = harness(
      [
        { name: 'a', algorithm: 'fixed-window', limit: 5, window: 60_000, align: 'first-hit' },
        { name: 'b', algorithm: 'token-bucket', capacity: 2, refillRate: 1, interval: 60_000 },
      ],
      0,
    );
    h.limit();
    h.limit();
    const denied = h.limit();
    expect(denied.allowed).toBe(false);
    expect(denied.policies.map((policy) => policy.remaining)).toEqual([3, 0]);
  });
});
