import { InvalidOptionsError } from '@redkit/core';
import type { LimitResult, Policy, PolicyResult } from '@redkit/ratelimit';
import {
  byIp,
  byUser,
  formatPolicyHeader,
  normalizeIp,
  partitionKey,
  problemContentType,
  problemDetails,
  rateLimitHeaders,
  retryAfterSeconds,
} from '@redkit/ratelimit/express';
import { describe, expect, it } from 'vitest';

const policies: Policy[] = [
  { name: 'minute', algorithm: 'fixed-window', limit: 100, window: 60_000, align: 'clock' },
  { name: 'day', algorithm: 'sliding-window', limit: 5_000, window: 86_400_000 },
  { name: 'log', algorithm: 'sliding-log', limit: 10, window: 1_500 },
  { name: 'bucket', algorithm: 'token-bucket', capacity: 20, refillRate: 2, interval: 1_000 },
  { name: 'smooth', algorithm: 'gcra', limit: 100, period: 60_000, burst: 25 },
  { name: 'parallel', algorithm: 'concurrency', limit: 4, leaseTtl: 30_000 },
];

function policyResult(name: string, overrides: Partial<PolicyResult> = {}): PolicyResult {
  const policy = policies.find((candidate) => candidate.name === name) as Policy;
  return {
    name,
    algorithm: policy.algorithm,
    allowed: true,
    limit: 10,
    remaining: 5,
    resetAfterMs: 30_000,
    retryAfterMs: 0,
    ...overrides,
  };
}

function result(binding: PolicyResult, overrides: Partial<LimitResult> = {}): LimitResult {
  return {
    allowed: binding.allowed,
    wouldAllow: binding.allowed,
    policy: binding.name,
    limit: binding.limit,
    remaining: binding.remaining,
    resetAt: Date.now() + binding.resetAfterMs,
    retryAfterMs: binding.retryAfterMs,
    blockedForMs: 0,
    policies: binding.name === 'day' ? [binding] : [policyResult('day', { remaining: 4_999 }), binding],
    decidedBy: 'redis',
    ...overrides,
  };
}

describe('RateLimit-Policy', () => {
  it('maps every algorithm to quota and window seconds', () => {
    expect(formatPolicyHeader(policies)).toBe(
      [
        '"minute";q=100;w=60',
        '"day";q=5000;w=86400',
        // 1.5 s rounds up: the field has whole seconds only.
        '"log";q=10;w=2',
        // token bucket: capacity, refilled in 20 / (2 per 1 s) = 10 s
        '"bucket";q=20;w=10',
        // GCRA: burst, earned back in 60 s * 25 / 100 = 15 s
        '"smooth";q=25;w=15',
        '"parallel";q=4;qu="concurrent-requests"',
      ].join(', '),
    );
  });

  it('never advertises a zero window', () => {
    const fast: Policy[] = [
      { name: 'ms', algorithm: 'fixed-window', limit: 5, window: 200, align: 'first-hit' },
      { name: 'g', algorithm: 'gcra', limit: 1000, period: 1_000, burst: 1 },
      { name: 'b', algorithm: 'token-bucket', capacity: 1, refillRate: 1000, interval: 1_000 },
    ];
    expect(formatPolicyHeader(fast)).toBe('"ms";q=5;w=1, "g";q=1;w=1, "b";q=1;w=1');
  });
});

describe('rateLimitHeaders', () => {
  it('describes the binding policy in RateLimit', () => {
    const binding = policyResult('bucket', { limit: 20, remaining: 3, resetAfterMs: 8_500 });
    expect(rateLimitHeaders(result(binding), policies)).toEqual({
      'RateLimit-Policy': formatPolicyHeader(policies),
      RateLimit: '"bucket";r=3;t=9',
    });
  });

  it('has no t for a concurrency policy, which has no window', () => {
    const binding = policyResult('parallel', { limit: 4, remaining: 0, resetAfterMs: 30_000 });
    expect(rateLimitHeaders(result(binding), policies).RateLimit).toBe('"parallel";r=0');
  });

  it('adds Retry-After (whole seconds, at least 1) to a denial', () => {
    const binding = policyResult('minute', { allowed: false, limit: 100, remaining: 0, resetAfterMs: 41_001 });
    const denied = result(binding, { retryAfterMs: 41_001 });
    expect(rateLimitHeaders(denied, policies)).toEqual({
      'RateLimit-Policy': formatPolicyHeader(policies),
      RateLimit: '"minute";r=0;t=42',
      'Retry-After': '42',
    });
    expect(retryAfterSeconds({ ...denied, retryAfterMs: 1 })).toBe(1);
    expect(retryAfterSeconds({ ...denied, retryAfterMs: 0 })).toBe(1);
  });

  it('reports a block as the wait of the binding policy', () => {
    const binding = policyResult('parallel', { allowed: false, limit: 0, remaining: 0, resetAfterMs: 0 });
    const blocked = result(binding, { blockedForMs: 90_000, retryAfterMs: 90_000 });
    expect(rateLimitHeaders(blocked, policies).RateLimit).toBe('"parallel";r=0;t=90');
  });

  it('sends legacy headers only when asked, and standard ones only when not turned off', () => {
    const binding = policyResult('minute', { limit: 100, remaining: 7, resetAfterMs: 12_000 });
    const admitted = result(binding, { resetAt: 1_700_000_012_345 });
    expect(rateLimitHeaders(admitted, policies, { standard: false, legacy: true })).toEqual({
      'X-RateLimit-Limit': '100',
      'X-RateLimit-Remaining': '7',
      'X-RateLimit-Reset': '1700000013',
    });
    expect(rateLimitHeaders(admitted, policies, { standard: false })).toEqual({});
  });

  it('leaves out the unknown state when Redis failed and the request was let through', () => {
    const binding = policyResult('minute', { limit: 100, remaining: 100, resetAfterMs: 0 });
    const failOpen = result(binding, { decidedBy: 'fail-open', redisFailure: 'unavailable' });
    expect(rateLimitHeaders(failOpen, policies, { legacy: true })).toEqual({
      'RateLimit-Policy': formatPolicyHeader(policies),
      'X-RateLimit-Limit': '100',
    });
  });

  it('does not send Retry-After in dry-run mode, where the request is admitted', () => {
    const binding = policyResult('minute', { allowed: false, limit: 100, remaining: 0, resetAfterMs: 5_000 });
    const dryRun = result(binding, { allowed: true, wouldAllow: false, retryAfterMs: 5_000 });
    expect(rateLimitHeaders(dryRun, policies)).toEqual({
      'RateLimit-Policy': formatPolicyHeader(policies),
      RateLimit: '"minute";r=0;t=5',
    });
  });
});

describe('draft versions', () => {
  const denied = () =>
    result(policyResult('minute', { allowed: false, remaining: 0, resetAfterMs: 42_100, retryAfterMs: 42_100 }));

  it('draft-8 items carry the partition key, the same per key and opaque', () => {
    // The value docs/ratelimit-http.md shows.
    expect(partitionKey('203.0.113.9')).toBe('2GG36RAz68HB');
    const headers = rateLimitHeaders(denied(), policies.slice(0, 2), { standard: 'draft-8' }, '203.0.113.9');
    expect(headers['RateLimit-Policy']).toBe(
      '"minute";q=100;w=60;pk=:2GG36RAz68HB:, "day";q=5000;w=86400;pk=:2GG36RAz68HB:',
    );
    expect(rateLimitHeaders(denied(), policies, { standard: true }, 'k')).toEqual(
      rateLimitHeaders(denied(), policies, { standard: 'draft-8' }, 'k'),
    );
  });

  it('draft-6 lists quotas without names and gives the binding policy in three fields', () => {
    expect(rateLimitHeaders(denied(), policies, { standard: 'draft-6' })).toEqual({
      'RateLimit-Policy': '100;w=60, 5000;w=86400, 10;w=2, 20;w=10, 25;w=15, 4',
      'RateLimit-Limit': '10',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '43',
      'Retry-After': '43',
    });
  });

  it('draft-7 gives the binding policy as one RateLimit field', () => {
    expect(rateLimitHeaders(denied(), policies, { standard: 'draft-7' })).toEqual({
      'RateLimit-Policy': '100;w=60, 5000;w=86400, 10;w=2, 20;w=10, 25;w=15, 4',
      RateLimit: 'limit=10, remaining=0, reset=43',
      'Retry-After': '43',
    });
  });

  it('leaves out reset for a concurrency policy, and remaining and reset when Redis failed open', () => {
    const parallel = result(policyResult('parallel', { remaining: 1 }));
    expect(rateLimitHeaders(parallel, policies, { standard: 'draft-7' }).RateLimit).toBe('limit=10, remaining=1');
    expect(rateLimitHeaders(parallel, policies, { standard: 'draft-6' })['RateLimit-Reset']).toBeUndefined();
    const open = result(policyResult('minute'), { decidedBy: 'fail-open' });
    const draft6 = rateLimitHeaders(open, policies, { standard: 'draft-6' });
    expect(Object.keys(draft6).sort()).toEqual(['RateLimit-Limit', 'RateLimit-Policy']);
    expect(rateLimitHeaders(open, policies, { standard: 'draft-7' }).RateLimit).toBeUndefined();
  });
});

describe('problemDetails', () => {
  it('is an RFC 9457 body with the wait', () => {
    const binding = policyResult('minute', { allowed: false, remaining: 0, resetAfterMs: 1_000 });
    expect(problemDetails(result(binding, { retryAfterMs: 1_000 }))).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Rate limit exceeded; retry in 1 second.',
      retryAfter: 1,
    });
    expect(problemDetails(result(binding, { retryAfterMs: 2_500 }), 503)).toEqual({
      type: 'about:blank',
      title: 'Service Unavailable',
      status: 503,
      detail: 'Rate limit exceeded; retry in 3 seconds.',
      retryAfter: 3,
    });
    expect(problemContentType).toBe('application/problem+json; charset=utf-8');
  });
});

describe('normalizeIp', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:cb00:7109', '203.0.113.9'],
    ['0:0:0:0:0:ffff:7f00:1', '127.0.0.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8::/64'],
    ['fe80::1%eth0', 'fe80::/64'],
    ['::1', '::/64'],
    ['::', '::/64'],
    ['2001:db8:0:0:1::', '2001:db8::/64'],
  ])('%s → %s', (address, expected) => {
    expect(normalizeIp(address)).toBe(expected);
  });

  it('groups by the configured prefix', () => {
    const address = '2001:db8:abcd:12ff:1:2:3:4';
    expect(normalizeIp(address, { ipv6Subnet: 128 })).toBe('2001:db8:abcd:12ff:1:2:3:4');
    expect(normalizeIp(address, { ipv6Subnet: 56 })).toBe('2001:db8:abcd:1200::/56');
    expect(normalizeIp(address, { ipv6Subnet: 48 })).toBe('2001:db8:abcd::/48');
    expect(normalizeIp(address, { ipv6Subnet: 1 })).toBe('::/1');
    expect(normalizeIp('8001::1', { ipv6Subnet: 1 })).toBe('8000::/1');
    expect(normalizeIp(address, { ipv6Subnet: 0 })).toBe('::/0');
    // RFC 5952: the first of two equally long zero runs is the one compressed.
    expect(normalizeIp('2001:0:0:1:0:0:1:1', { ipv6Subnet: 128 })).toBe('2001::1:0:0:1:1');
    expect(normalizeIp('2001:db8:0:1:1:1:1:1', { ipv6Subnet: 128 })).toBe('2001:db8:0:1:1:1:1:1');
  });

  it.each(['', 'localhost', '1.2.3', '1.2.3.256', '01.2.3.4', '2001:db8::1::2', '12345::', 'ip'])(
    'rejects %j',
    (address) => {
      expect(() => normalizeIp(address)).toThrow(InvalidOptionsError);
      expect(() => normalizeIp(address)).toThrow(/address: not an IP address/);
    },
  );

  it.each([-1, 129, 64.5, Number.NaN])('rejects subnet %s', (ipv6Subnet) => {
    expect(() => normalizeIp('::1', { ipv6Subnet })).toThrow(/ipv6Subnet: must be an integer from 0 to 128/);
    expect(() => byIp({ ipv6Subnet })).toThrow(/byIp\(\): invalid options: ipv6Subnet/);
  });
});

describe('key generators', () => {
  it('byIp reads req.ip, else the socket address', async () => {
    expect(await byIp()({ ip: '::ffff:10.0.0.1' })).toBe('10.0.0.1');
    expect(await byIp()({ socket: { remoteAddress: '2001:db8:5:6:7::8' } })).toBe('2001:db8:5:6::/64');
    expect(await byIp({ ipv6Subnet: 32 })({ ip: '2001:db8:5:6:7::8' })).toBe('2001:db8::/32');
    expect(() => byIp()({ socket: {} })).toThrow(/byIp\(\): invalid options: address: the request has no client IP/);
  });

  it('byUser prefixes the id and falls back to the IP', async () => {
    const key = byUser((req: { ip: string; user?: { id: number } }) => req.user?.id);
    expect(await key({ ip: '10.0.0.1', user: { id: 42 } })).toBe('user:42');
    expect(await key({ ip: '10.0.0.1' })).toBe('10.0.0.1');
    const custom = byUser((req: { ip: string; user?: string }) => req.user, { fallback: () => 'anonymous' });
    expect(await custom({ ip: '10.0.0.1' })).toBe('anonymous');
    expect(() => byUser('id' as never)).toThrow(/byUser\(\): invalid options: getUserId: must be a function/);
  });
});
