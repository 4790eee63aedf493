// Sliding window: the previous window's count, weighted by how much of it still
// overlaps, plus the current one. No burst of 2x the limit at a window boundary.
import { connect } from '@redkit/core';
import { RateLimiter } from '@redkit/ratelimit';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const limiter = new RateLimiter({
  redis,
  namespace: 'example-sliding-window',
  policies: [{ name: 'minute', algorithm: 'sliding-window', limit: 3, window: '1m' }],
});
await limiter.reset('ip:203.0.113.9'); // start empty, so the example can run twice

for (let request = 1; request <= 5; request++) {
  const result = await limiter.limit('ip:203.0.113.9');
  console.log(`request ${request}: ${result.allowed ? 'allowed' : 'denied'}, ${result.remaining} left`);
}

// Would a request be admitted now? (consumes nothing)
console.log(`peek: ${(await limiter.peek('ip:203.0.113.9')).allowed ? 'would be allowed' : 'would be denied'}`);

await limiter.reset('ip:203.0.113.9');
await redis.quit();
