import { connect } from '@redkit/core';
import { type LimitResult, type PolicyInput, RateLimiter, type RateLimiterOptions } from '@redkit/ratelimit';
import { describe, expectTypeOf, it } from 'vitest';

describe('ratelimit public types', () => {
  it('policies are a discriminated union by algorithm', () => {
    expectTypeOf<{ algorithm: 'token-bucket'; capacity: 10; refillRate: 1 }>().toExtend<PolicyInput>();
    expectTypeOf<{ algorithm: 'token-bucket'; limit: 10; window: '1s' }>().not.toExtend<PolicyInput>();
    expectTypeOf<{ algorithm: 'leaky-bucket'; limit: 1 }>().not.toExtend<PolicyInput>();
  });

  it('limit() resolves to a result with a typed decision path', () => {
    const limiter = new RateLimiter({
      redis: connect('redis://localhost'),
      policies: [{ algorithm: 'fixed-window', limit: 1, window: '1s' }],
    });
    expectTypeOf(limiter.limit('s')).resolves.toEqualTypeOf<LimitResult>();
    expectTypeOf<LimitResult['decidedBy']>().toEqualTypeOf<
      'redis' | 'denied-cache' | 'fallback' | 'fail-open' | 'fail-closed' | 'replica-shortfall'
    >();
    expectTypeOf(limiter.events.on).parameter(0).toEqualTypeOf<'allowed' | 'denied' | 'blocked' | 'redis-failure'>();
  });

  it('options take durations and an ioredis client', () => {
    expectTypeOf<RateLimiterOptions['timeout']>().toEqualTypeOf<import('@redkit/core').Duration | undefined>();
  });
});
