import { readFileSync } from 'node:fs';
import type { Scenario, Target, Variant } from '../scenario.js';
import { loadOnEveryMaster } from './load-script.js';
import { admitAll, rateLimiterFlexibleVariant, rateLimitRedisVariant, redkitVariant } from './ratelimit-variants.js';
import { hotSubject, randomSubjects, type SubjectDistribution } from './subjects.js';

// Read at start-up: bench runs under tsx, not the tsup build that inlines .lua files in packages.
const hitFixedWindow = readFileSync(new URL('./scripts/hit-fixed-window.lua', import.meta.url), 'utf8');

const windowMs = 60_000;

function rawVariant(redis: Target['redis'], subjects: SubjectDistribution): Variant {
  const keyOf = subjects.keys('bench-raw-fw');
  let sha = '';
  return {
    name: 'raw-evalsha',
    async setup() {
      sha = await loadOnEveryMaster(redis, hitFixedWindow);
      const count = await redis.evalsha(sha, 1, keyOf(0), windowMs);
      if (typeof count !== 'number' || count < 1) throw new Error(`raw-evalsha: expected a count, got ${count}`);
    },
    run: (i) => redis.evalsha(sha, 1, keyOf(i), windowMs),
  };
}

function fixedWindowScenario(subjects: SubjectDistribution): Scenario {
  return {
    name: `ratelimit-fixed-window${subjects.suffix}`,
    title: `fixed-window rate limit, ${subjects.label}`,
    description:
      `One rate-limit check per operation, on ${subjects.label}, with a 1-minute window that starts at the ` +
      `subject's first hit and a limit of ${admitAll.toLocaleString('en-US')} (every check is admitted and counted, ` +
      'so every variant does the same work). `redkit`: `RateLimiter` with one `fixed-window` policy ' +
      "(`align: 'first-hit'`), `limit(subject)`. `rate-limiter-flexible`: `RateLimiterRedis` " +
      '(`duration: 60`), `consume(key)`. `rate-limit-redis`: the `RedisStore` of express-rate-limit, ' +
      '`increment(key)` as its middleware calls it (ioredis `call` as `sendCommand`). `raw-evalsha` is the ' +
      'practical limit: `redis.evalsha` of a 3-line script (INCR, then PEXPIRE on the first hit; reply = the count) ' +
      'after SCRIPT LOAD on every master. All variants share one ioredis client; keys carry the subject as hash ' +
      'tag, so every variant touches the same cluster slots.',
    baseline: 'raw-evalsha',
    variants: ({ redis }) => [
      rawVariant(redis, subjects),
      redkitVariant(
        'redkit',
        redis,
        'bench-rk-fw',
        [{ algorithm: 'fixed-window', limit: admitAll, window: '1m', align: 'first-hit' }],
        subjects,
      ),
      rateLimiterFlexibleVariant('rate-limiter-flexible', redis, 'bench-rlf-fw', windowMs / 1000, subjects),
      rateLimitRedisVariant('rate-limit-redis', redis, 'bench-rlr-fw', windowMs, subjects),
    ],
  };
}

export const rateLimitFixedWindow = fixedWindowScenario(randomSubjects);
export const rateLimitFixedWindowHot = fixedWindowScenario(hotSubject);
