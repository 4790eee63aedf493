// Token bucket: bursts up to `capacity`, then a steady `refillRate` per `interval`
// (here: 5 at once, then one every 10 seconds).
// Expensive calls can cost several tokens.
import { connect } from '@redkit/core';
import { RateLimiter } from '@redkit/ratelimit';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const limiter = new RateLimiter({
  redis,
  namespace: 'example-token-bucket',
  policies: [{ name: 'burst', algorithm: 'token-bucket', capacity: 5, refillRate: 1, interval: '10s' }],
});
await limiter.reset('api-key:abc'); // start full, so the example can run twice

const export1 = await limiter.limit('api-key:abc', { cost: 3 });
console.log(`export (cost 3): ${export1.allowed ? 'allowed' : 'denied'}, ${export1.remaining} left`);
for (let request = 1; request <= 3; request++) {
  const result = await limiter.limit('api-key:abc');
  const outcome = result.allowed ? 'allowed' : `denied, a token refills in ${result.retryAfterMs} ms`;
  console.log(`request ${request}: ${outcome}`);
}

await limiter.reset('api-key:abc');
await redis.quit();
