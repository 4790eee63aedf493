import { readFileSync } from 'node:fs';
import { RedkitStore } from '@redkit/ratelimit/express';
import { rateLimit } from 'express-rate-limit';
import type { Scenario, Target, Variant } from '../scenario.js';
import { loadOnEveryMaster } from './load-script.js';
import { admitAll, rateLimitRedisVariant } from './ratelimit-variants.js';
import { randomSubjects, type SubjectDistribution } from './subjects.js';

// Read at start-up: bench runs under tsx, not the tsup build that inlines .lua files in packages.
const hitFixedWindow = readFileSync(new URL('./scripts/hit-fixed-window.lua', import.meta.url), 'utf8');

const windowMs = 60_000;

function rawVariant(redis: Target['redis'], subjects: SubjectDistribution): Variant {
  const keyOf = subjects.keys('bench-raw-ers');
  let sha = '';
  return {
    name: 'raw-evalsha',
    async setup() {
      sha = await loadOnEveryMaster(redis, hitFixedWindow);
    },
    run: (i) => redis.evalsha(sha, 1, keyOf(i), windowMs),
  };
}

/** RedkitStore as express-rate-limit sets it up (its `init` gets the middleware's options), driven at the store. */
function redkitStoreVariant(redis: Target['redis'], subjects: SubjectDistribution): Variant {
  const store = new RedkitStore({ redis, prefix: 'bench-rk-ers' });
  const increment = (i: number) => store.increment(subjects.subject(i));
  return {
    name: 'redkit-store',
    async setup() {
      rateLimit({ windowMs, limit: admitAll, store });
      const info = await increment(0);
      if (!(info.totalHits >= 1 && info.resetTime instanceof Date)) {
        throw new Error(`redkit-store: expected hits and a reset time, got ${JSON.stringify(info)}`);
      }
    },
    run: increment,
  };
}

/**
 * The store behind express-rate-limit: what its middleware awaits per
 * request, `store.increment(key)`, for `RedkitStore` beside `rate-limit-redis`.
 */
export const rateLimitExpressStore: Scenario = {
  name: 'ratelimit-express-store',
  title: `express-rate-limit store, ${randomSubjects.label}`,
  description:
    `One \`store.increment(key)\` per operation, on ${randomSubjects.label}: the call express-rate-limit's ` +
    "middleware awaits for each request, with a 1-minute window that starts at the key's first hit. " +
    '`redkit-store`: `RedkitStore` from `@redkit/ratelimit/express`, initialised by `rateLimit({ store })`. ' +
    '`rate-limit-redis`: its `RedisStore` with ioredis `call` as `sendCommand`. Both return the hit count and ' +
    'the reset time (INCR and PTTL in one script). `raw-evalsha` is the practical limit: `redis.evalsha` of a ' +
    '3-line script (INCR, then PEXPIRE on the first hit; reply = the count only) after SCRIPT LOAD on every ' +
    'master. All variants share one ioredis client; keys carry the client key as hash tag, so every variant ' +
    'touches the same cluster slots.',
  baseline: 'raw-evalsha',
  variants: ({ redis }) => [
    rawVariant(redis, randomSubjects),
    redkitStoreVariant(redis, randomSubjects),
    rateLimitRedisVariant('rate-limit-redis', redis, 'bench-rlr-ers', windowMs, randomSubjects),
  ],
};
