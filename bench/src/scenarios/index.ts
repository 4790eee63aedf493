import type { AnyScenario } from '../scenario.js';
import { cacheHitL1, cacheHitRedis1kb, cacheHitRedis100kb, cacheMissLoader } from './cache.js';
import { cacheHotKey } from './cache-hot-key.js';
import { cacheStaleWindow } from './cache-stale-window.js';
import { coreScript } from './core-script.js';
import { geoNear1km, geoNear1km1m, geoNear10km, geoNear10km1m } from './geo-near.js';
import { keyvGetHit, keyvSet } from './keyv-store.js';
import { leaderboardAround, leaderboardTop } from './leaderboard-reads.js';
import { leaderboardSubmit } from './leaderboard-submit.js';
import { lockContended, lockUncontended } from './lock.js';
import { queueConsume, queueProduce } from './queue-throughput.js';
import { rateLimitExpressStore } from './ratelimit-express-store.js';
import { rateLimitFixedWindow, rateLimitFixedWindowHot } from './ratelimit-fixed-window.js';
import { rateLimitFastifyStore, rateLimitNestThrottler } from './ratelimit-http-stores.js';
import { rateLimitMultiPolicy } from './ratelimit-multi-policy.js';
import { rateLimitReplicated } from './ratelimit-replicated.js';
import { rateLimitSlidingWindow, rateLimitSlidingWindowHot } from './ratelimit-sliding-window.js';
import { sessionGetTouch } from './session.js';
import { sessionStoreGet, sessionStoreSet, sessionStoreTouch } from './session-store.js';

/** Every scenario `--scenario` can name, in the order they run and appear in docs/benchmarks.md. */
export const scenarios: ReadonlyMap<string, AnyScenario> = new Map<string, AnyScenario>(
  [
    coreScript,
    rateLimitFixedWindow,
    rateLimitFixedWindowHot,
    rateLimitSlidingWindow,
    rateLimitSlidingWindowHot,
    rateLimitMultiPolicy,
    rateLimitReplicated,
    rateLimitExpressStore,
    rateLimitNestThrottler,
    rateLimitFastifyStore,
    lockUncontended,
    lockContended,
    leaderboardSubmit,
    leaderboardTop,
    leaderboardAround,
    geoNear1km,
    geoNear10km,
    geoNear1km1m,
    geoNear10km1m,
    sessionGetTouch,
    sessionStoreGet,
    sessionStoreSet,
    sessionStoreTouch,
    cacheHitRedis1kb,
    cacheHitRedis100kb,
    cacheHitL1,
    cacheMissLoader,
    cacheHotKey,
    keyvGetHit,
    keyvSet,
    cacheStaleWindow,
    queueProduce,
    queueConsume,
  ].map((scenario) => [scenario.name, scenario]),
);
