// Fixed window: at most `limit` requests per window; the count resets when the
// window ends. `align: 'first-hit'` starts a subject's window at its first request;
// `'clock'` (the default) aligns every window to the clock: "resets at 12:00".
import { connect } from '@redkit/core';
import { RateLimiter } from '@redkit/ratelimit';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const limiter = new RateLimiter({
  redis,
  namespace: 'example-fixed-window',
  policies: [{ name: 'minute', algorithm: 'fixed-window', limit: 3, window: '1m', align: 'first-hit' }],
});
await limiter.reset('user:42'); // start empty, so the example can run twice

for (let request = 1; request <= 5; request++) {
  const result = await limiter.limit('user:42');
  console.log(
    `request ${request}: ${result.allowed ? 'allowed' : 'denied'}, ${result.remaining} left` +
      (result.allowed ? '' : `, retry in ${Math.ceil(result.retryAfterMs / 1000)} s`),
  );
}

await limiter.reset('user:42');
await redis.quit();
