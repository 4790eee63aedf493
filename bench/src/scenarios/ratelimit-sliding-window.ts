import { readFileSync } from 'node:fs';
import type { Scenario, Target, Variant } from '../scenario.js';
import { loadOnEveryMaster } from './load-script.js';
import { admitAll, rateLimiterFlexibleVariant, rateLimitRedisVariant, redkitVariant } from './ratelimit-variants.js';
import { hotSubject, randomSubjects, type SubjectDistribution } from './subjects.js';

// Read at start-up: bench runs under tsx, not the tsup build that inlines .lua files in packages.
const hitSlidingWindow = readFileSync(new URL('./scripts/hit-sliding-window.lua', import.meta.url), 'utf8');

const windowMs = 60_000;

function rawVariant(redis: Target['redis'], subjects: SubjectDistribution): Variant {
  const keyOf = subjects.keys('bench-raw-sw');
  let sha = '';
  return {
    name: 'raw-evalsha',
    async setup() {
      sha = await loadOnEveryMaster(redis, hitSlidingWindow);
      if ((await redis.evalsha(sha, 1, keyOf(0), admitAll, windowMs)) !== 1) throw new Error('raw-evalsha: denied');
    },
    run: (i) => redis.evalsha(sha, 1, keyOf(i), admitAll, windowMs),
  };
}

function slidingWindowScenario(subjects: SubjectDistribution): Scenario {
  return {
    name: `ratelimit-sliding-window${subjects.suffix}`,
    title: `sliding-window rate limit, ${subjects.label}`,
    description:
      `One rate-limit check per operation, on ${subjects.label}, with a 1-minute sliding window counter ` +
      `(the previous window's count weighted by its overlap, plus the current one) and a limit of ` +
      `${admitAll.toLocaleString('en-US')}, so every check is admitted and counted. \`redkit\`: \`RateLimiter\` with one ` +
      '`sliding-window` policy, `limit(subject)`. `raw-evalsha` is the practical limit, a minimal script with the ' +
      'same arithmetic and server clock (TIME, HMGET, then HINCRBY, or HSET + PEXPIRE when a new window starts; ' +
      'reply 1/0) after SCRIPT LOAD on every master. Neither peer has a sliding window: rate-limiter-flexible ' +
      'documents only its fixed window from the first hit ("much faster than rolling window"; `execEvenly` delays ' +
      'admitted calls, it does not slide the window), and rate-limit-redis is fixed-window only. They are shown ' +
      'with their 1-minute fixed window, marked `(fixed window)`, as what a user of them runs instead: cheaper ' +
      'work than a sliding window, so their ratios are not like for like.',
    baseline: 'raw-evalsha',
    variants: ({ redis }) => [
      rawVariant(redis, subjects),
      redkitVariant(
        'redkit',
        redis,
        'bench-rk-sw',
        [{ algorithm: 'sliding-window', limit: admitAll, window: '1m' }],
        subjects,
      ),
      rateLimiterFlexibleVariant(
        'rate-limiter-flexible (fixed window)',
        redis,
        'bench-rlf-sw',
        windowMs / 1000,
        subjects,
      ),
      rateLimitRedisVariant('rate-limit-redis (fixed window)', redis, 'bench-rlr-sw', windowMs, subjects),
    ],
  };
}

export const rateLimitSlidingWindow = slidingWindowScenario(randomSubjects);
export const rateLimitSlidingWindowHot = slidingWindowScenario(hotSubject);
