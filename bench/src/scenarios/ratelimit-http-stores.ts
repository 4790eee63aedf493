import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createRateLimitStore, type RateLimitStoreResult } from '@redkit/ratelimit/fastify';
import { RedkitThrottlerStorage } from '@redkit/ratelimit/nest';
import type { Scenario, Target, Variant } from '../scenario.js';
import { loadOnEveryMaster } from './load-script.js';
import { admitAll } from './ratelimit-variants.js';
import { randomSubjects, type SubjectDistribution } from './subjects.js';

// Read at start-up: bench runs under tsx, not the tsup build that inlines .lua files in packages.
const hitFixedWindow = readFileSync(new URL('./scripts/hit-fixed-window.lua', import.meta.url), 'utf8');
const incrementThrottler = readFileSync(
  new URL('../../../packages/ratelimit/src/scripts/increment-throttler.lua', import.meta.url),
  'utf8',
);

const windowMs = 60_000;

/** `redis.evalsha` of `source` with the subject's key(s), after SCRIPT LOAD on every master. */
function rawVariant(
  name: string,
  redis: Target['redis'],
  source: string,
  keysOf: (i: number) => string[],
  args: (string | number)[],
): Variant {
  let sha = '';
  return {
    name,
    async setup() {
      sha = await loadOnEveryMaster(redis, source);
    },
    run: (i) => {
      const keys = keysOf(i);
      return redis.evalsha(sha, keys.length, ...keys, ...args);
    },
  };
}

function throttlerStorageVariant(redis: Target['redis'], subjects: SubjectDistribution): Variant {
  const storage = new RedkitThrottlerStorage({ redis, namespace: 'bench-rk-nest' });
  const increment = (i: number) =>
    storage.increment(subjects.subject(i), windowMs, admitAll, windowMs, 'default').then((record) => {
      if (!(record.totalHits >= 1 && record.timeToExpire > 0 && !record.isBlocked)) {
        throw new Error(`redkit-storage: unexpected record ${JSON.stringify(record)}`);
      }
      return record;
    });
  return { name: 'redkit-storage', setup: () => increment(0).then(() => {}), run: increment };
}

/**
 * The storage behind @nestjs/throttler's guard: `storage.increment(key, ttl,
 * limit, blockDuration, name)` once per request and throttler.
 */
export const rateLimitNestThrottler: Scenario = {
  name: 'ratelimit-nest-throttler',
  title: `@nestjs/throttler storage, ${randomSubjects.label}`,
  description:
    `One \`storage.increment(key, 60000, limit, 60000, 'default')\` per operation, on ${randomSubjects.label}: ` +
    "the call @nestjs/throttler's guard awaits for each request. `redkit-storage`: `RedkitThrottlerStorage` " +
    "from `@redkit/ratelimit/nest`, which keeps the in-memory storage's semantics (a log of hit expiry times, " +
    'the window, block then reset) in one script. The Redis storage people pair with @nestjs/throttler ' +
    '(`@nest-lab/throttler-storage-redis`) is not a dependency of this repository, so the peers here are ' +
    '`raw-evalsha`, the same script sent by `redis.evalsha` (what redkit adds around it), and `raw-fixed-window`, ' +
    'the practical limit of any Redis counter (INCR, PEXPIRE on the first hit), which does not keep those semantics.',
  baseline: 'raw-evalsha',
  variants: ({ redis }) => {
    const subjects = randomSubjects;
    const record = subjects.keys('bench-raw-nest');
    const hits = subjects.keys('bench-raw-nest-h');
    const counter = subjects.keys('bench-raw-nest-fw');
    return [
      rawVariant('raw-evalsha', redis, incrementThrottler, (i) => [record(i), hits(i)], [windowMs, admitAll, windowMs]),
      throttlerStorageVariant(redis, subjects),
      rawVariant('raw-fixed-window', redis, hitFixedWindow, (i) => [counter(i)], [windowMs]),
    ];
  },
};

// @fastify/rate-limit ships its Redis store as a CommonJS file without an export of its own.
const require = createRequire(import.meta.url);
type Callback = (error: Error | null, result?: RateLimitStoreResult) => void;
interface PluginStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
}
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Target['redis'],
  key?: string,
) => PluginStore;

function storeVariant(name: string, store: PluginStore, subjects: SubjectDistribution, tagged: boolean): Variant {
  const incr = (i: number) =>
    new Promise<RateLimitStoreResult>((resolve, reject) =>
      store.incr(
        tagged ? subjects.tagged(i) : subjects.subject(i),
        (error, result) => {
          if (error) return reject(error);
          if (!(result && result.current >= 1 && result.ttl > 0)) {
            return reject(new Error(`${name}: unexpected result ${JSON.stringify(result)}`));
          }
          resolve(result);
        },
        windowMs,
        admitAll,
      ),
    );
  return { name, setup: () => incr(0).then(() => {}), run: incr };
}

/** The store behind @fastify/rate-limit: `store.incr(key, cb, timeWindow, max)` once per request. */
export const rateLimitFastifyStore: Scenario = {
  name: 'ratelimit-fastify-store',
  title: `@fastify/rate-limit store, ${randomSubjects.label}`,
  description:
    `One \`store.incr(key, callback, 60000, max)\` per operation, on ${randomSubjects.label}: the call ` +
    "@fastify/rate-limit's hook awaits for each request. `redkit-store`: the class from `createRateLimitStore()` " +
    "of `@redkit/ratelimit/fastify`. `fastify-redis-store`: the plugin's own `RedisStore` (what `redis:` selects), " +
    'given the subject inside a hash tag so its keys land in the same slots. Both run one script per hit (INCR, ' +
    'PEXPIRE on the first, PTTL otherwise). `raw-evalsha` is the practical limit: a 3-line script (INCR, then ' +
    'PEXPIRE on the first hit; reply = the count only) after SCRIPT LOAD on every master.',
  baseline: 'raw-evalsha',
  variants: ({ redis }) => {
    const counter = randomSubjects.keys('bench-raw-fst');
    return [
      rawVariant('raw-evalsha', redis, hitFixedWindow, (i) => [counter(i)], [windowMs]),
      storeVariant(
        'redkit-store',
        new (createRateLimitStore({ redis, namespace: 'bench-rk-fst' }))({}),
        randomSubjects,
        false,
      ),
      storeVariant('fastify-redis-store', new RedisStore(false, false, redis, 'bench-frs-'), randomSubjects, true),
    ];
  },
};
