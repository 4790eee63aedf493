import type { Scenario } from '../scenario.js';
import { contendedVariants, lockTtlMs, oneResource, spreadResources, uncontendedVariants } from './lock-variants.js';

const ttl = lockTtlMs;

const peers =
  `\`redkit\`: \`Mutex\` of @redkit/lock (\`ttl: ${ttl}\`), \`tryAcquire(resource)\` (one attempt, no waiting) ` +
  'and `lock.release()`. Unlike the others it also issues a fencing token: its acquire script takes the lock and ' +
  "advances the resource's fencing counter in the same call; its release script deletes the lock if it still " +
  'holds the token and publishes a wake-up only when a caller waits. `redlock`: redlock 5.0.0-beta.2 with the ' +
  `shared client as its only instance and \`retryCount: 0\`, \`acquire([key], ${ttl})\` (EVALSHA of its acquire ` +
  'script: EXISTS, then SET PX) and `lock.release()` (EVALSHA: GET, then DEL if the value matches). ' +
  `\`redis-semaphore\`: its \`Mutex\` (one instance per lock as its API has it; \`lockTimeout: ${ttl}\`, ` +
  '`acquireAttemptsLimit: 1`, `retryInterval: 0`, and `refreshInterval: 0` so that, like the others, it runs no ' +
  `auto-extension timer), \`tryAcquire()\` (a plain \`SET key id PX ${ttl} NX\`) and \`release()\` (EVALSHA: GET, ` +
  'then DEL if the value matches). All variants share one ioredis client; keys carry the resource as hash tag, so ' +
  'every variant touches the same cluster slots.';

/** Acquire + release of free locks: the cost of a lock round trip when nobody competes. */
export const lockUncontended: Scenario = {
  name: 'lock-uncontended',
  title: `lock acquire + release, ${spreadResources.label}`,
  description:
    `One acquire and one release of a free lock per operation, on ${spreadResources.label} taken in a fixed ` +
    'shuffled order (each once per 10,000 operations, so no two callers in flight want the same one), with a ' +
    `${ttl} ms lease. Every acquire must succeed and every release must find its own lock (checked where the ` +
    'library reports it; a failure stops the run), so every variant does the same work. `raw` is the practical ' +
    `limit of a safe lock without fencing tokens: \`SET key token NX PX ${ttl}\` (a plain command, random UUID ` +
    'token), then EVALSHA of a compare-and-delete script (GET, then DEL if the value is the token) after SCRIPT ' +
    `LOAD on every master. ${peers}`,
  baseline: 'raw',
  variants: ({ redis }) => uncontendedVariants(redis, spreadResources),
};

/** Every caller competes for one lock: the cost of an attempt, and how often the lock changes hands. */
export const lockContended: Scenario = {
  name: 'lock-contended',
  title: `lock attempts, every caller on ${oneResource.label}`,
  description:
    'All callers in flight compete for one resource: each operation is one acquire attempt without waiting ' +
    `(${ttl} ms lease) and, when it got the lock, an immediate release. ops/s counts attempts; \`acquired/s\` ` +
    'counts the attempts that got the lock (each of their releases must find its own lock, checked where the ' +
    'library reports it). An attempt on a taken lock costs `raw` and `redis-semaphore` one failed `SET … NX`, ' +
    '`redkit` one script call, and `redlock` two script calls: it runs its release script after a failed ' +
    'acquire, to undo a partial quorum, before it rejects. redis-semaphore sleeps `retryInterval` after a failed ' +
    'attempt even when it was the last: 0 here (default 10 ms), which Node rounds up to a 1 ms timer, so its ' +
    'failed attempts are paced by that timer, not by Redis. Otherwise the variants are those of ' +
    `\`lock-uncontended\`: \`raw\` sends \`SET key token NX PX ${ttl}\`, and after a successful one EVALSHA of a ` +
    `compare-and-delete script. ${peers}`,
  baseline: 'raw',
  counted: 'acquired',
  variants: ({ redis }) => contendedVariants(redis, oneResource),
};
