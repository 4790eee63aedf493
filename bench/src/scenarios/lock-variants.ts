import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RedisConnection } from '@redkit/core';
import { type FencedLock, Mutex } from '@redkit/lock';
import { Mutex as SemaphoreMutex } from 'redis-semaphore';
import type { Variant } from '../scenario.js';
import { loadOnEveryMaster } from './load-script.js';
import { randomIndexes } from './subjects.js';

// redlock 5 beta ships its types at dist/index.d.ts but its package.json `exports` does not point to them,
// so TypeScript finds none for `import 'redlock'`. Its CommonJS build (the same code), typed from that file.
type RedlockModule = typeof import('../../../node_modules/redlock/dist/index.js');
const {
  default: Redlock,
  ExecutionError,
  ResourceLockedError,
} = createRequire(import.meta.url)('redlock') as RedlockModule;
type RedlockLock = InstanceType<RedlockModule['Lock']>;

// Read at start-up: bench runs under tsx, not the tsup build that inlines .lua files in packages.
const compareAndDelete = readFileSync(new URL('./scripts/compare-and-delete.lua', import.meta.url), 'utf8');

/** Lease of every lock taken: long enough that none expires during a run. */
export const lockTtlMs = 10_000;

/** The resources a lock scenario locks, in one fixed order shared by every variant. */
export interface LockResources {
  /** For titles and descriptions, e.g. "10,000 resources". */
  readonly label: string;
  /** Resource of operation `i`, as given to redkit (which wraps it in a hash tag itself). */
  resource(i: number): string;
  /** Keys `<prefix>:{resource}` for the other variants (same cluster slot as redkit's), built once. */
  keys(prefix: string): (i: number) => string;
}

function lockResources(label: string, names: string[], order: (i: number) => number): LockResources {
  return {
    label,
    resource: (i) => names[order(i)] as string,
    keys(prefix) {
      const keys = names.map((name) => `${prefix}:{${name}}`);
      return (i) => keys[order(i)] as string;
    },
  };
}

/** A fixed-seed Fisher–Yates shuffle of 0 … n-1. */
function permutation(n: number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const random = randomIndexes(n, 2 ** 32, 0x10c5);
  for (let i = n - 1; i > 0; i--) {
    const j = (random[i] as number) % (i + 1);
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
  return order;
}

const resourceCount = 10_000;
const shuffled = permutation(resourceCount);

/**
 * 10,000 resources, each once per 10,000 consecutive operations (one fixed
 * shuffled order, repeated): the callers in flight never want the same
 * resource, so every acquire of a working lock succeeds.
 */
export const spreadResources: LockResources = lockResources(
  '10,000 resources',
  Array.from({ length: resourceCount }, (_, i) => `r${i}`),
  (i) => shuffled[i % resourceCount] as number,
);

/** Every operation wants the same resource. */
export const oneResource: LockResources = lockResources('one resource', ['hot'], () => 0);

/** One lock implementation: a single acquire attempt (null when the lock is taken) and a checked release. */
interface LockAdapter<Held> {
  readonly name: string;
  setup?(): Promise<void>;
  /** One attempt, no waiting: the held lock, or null when another holder has it. */
  acquire(i: number): Promise<Held | null>;
  /** Releases a held lock; throws unless the release found and deleted this holder's lock. */
  release(held: Held): Promise<void>;
}

/**
 * `SET key token NX PX ttl` (a plain command), then EVALSHA of a
 * compare-and-delete script loaded on every master beforehand: the practical
 * limit of a safe lock without fencing tokens.
 */
function rawLock(redis: RedisConnection, resources: LockResources): LockAdapter<{ key: string; token: string }> {
  const keyOf = resources.keys('bench-raw-lock');
  let sha = '';
  return {
    name: 'raw',
    async setup() {
      sha = await loadOnEveryMaster(redis, compareAndDelete);
    },
    async acquire(i) {
      const key = keyOf(i);
      const token = randomUUID();
      return (await redis.set(key, token, 'PX', lockTtlMs, 'NX')) === 'OK' ? { key, token } : null;
    },
    async release({ key, token }) {
      const deleted = await redis.evalsha(sha, 1, key, token);
      if (deleted !== 1) throw new Error(`raw: compare-and-delete of ${key} replied ${JSON.stringify(deleted)}`);
    },
  };
}

/** `Mutex.tryAcquire(resource)` of @redkit/lock (with a fencing token), then `lock.release()`. */
function redkitLock(redis: RedisConnection, resources: LockResources): LockAdapter<FencedLock> {
  const mutex = new Mutex({ redis, namespace: 'bench-rk-lock', ttl: lockTtlMs });
  return {
    name: 'redkit',
    acquire: (i) => mutex.tryAcquire(resources.resource(i)),
    async release(lock) {
      const status = await lock.release();
      if (status !== 'released') throw new Error(`redkit: release of ${lock.resources[0]} found the lock ${status}`);
    },
  };
}

/** Whether redlock failed only because the resource was locked (not because Redis failed). */
async function lockedOnly(error: unknown): Promise<boolean> {
  if (!(error instanceof ExecutionError)) return false;
  for (const attempt of error.attempts) {
    for (const reason of (await attempt).votesAgainst.values()) {
      if (!(reason instanceof ResourceLockedError)) return false;
    }
  }
  return true;
}

/**
 * redlock 5 (beta) with the shared client as its only instance and no
 * retries: `acquire([key], ttl)` (EVALSHA of its acquire script) and
 * `release()`. A busy acquire throws; redlock then runs its release script
 * once more to undo a partial quorum before rejecting.
 */
function redlockLock(redis: RedisConnection, resources: LockResources): LockAdapter<RedlockLock> {
  const keyOf = resources.keys('bench-rl-lock');
  const redlock = new Redlock([redis], { retryCount: 0 });
  return {
    name: 'redlock',
    async acquire(i) {
      try {
        return await redlock.acquire([keyOf(i)], lockTtlMs);
      } catch (error) {
        if (await lockedOnly(error)) return null;
        throw error;
      }
    },
    async release(lock) {
      // Rejects unless the quorum (here the one instance) deleted the lock.
      await lock.release();
    },
  };
}

/**
 * redis-semaphore's `Mutex` (one instance per lock, as its API has it):
 * `tryAcquire()` with one attempt (plain `SET key id PX ttl NX`), then
 * `release()` (EVALSHA of its compare-and-delete script; it reports nothing).
 */
function redisSemaphoreLock(redis: RedisConnection, resources: LockResources): LockAdapter<SemaphoreMutex> {
  const keyOf = resources.keys('bench-rs-lock');
  const options = {
    lockTimeout: lockTtlMs,
    acquireAttemptsLimit: 1,
    // It sleeps retryInterval after a failed attempt even when it was the last (default 10 ms).
    retryInterval: 0,
    // No auto-extension timer: like the other variants, the lock lives for its ttl unless released.
    refreshInterval: 0,
  };
  return {
    name: 'redis-semaphore',
    async acquire(i) {
      const mutex = new SemaphoreMutex(redis, keyOf(i), options);
      return (await mutex.tryAcquire()) ? mutex : null;
    },
    release: (mutex) => mutex.release(),
  };
}

/** One variant per lock implementation, all bound to one client, `raw` first; `as` makes each operation. */
function variantsOf(
  redis: RedisConnection,
  resources: LockResources,
  as: <Held>(lock: LockAdapter<Held>) => Variant,
): Variant[] {
  return [
    as(rawLock(redis, resources)),
    as(redkitLock(redis, resources)),
    as(redlockLock(redis, resources)),
    as(redisSemaphoreLock(redis, resources)),
  ];
}

/** Each operation acquires and releases a lock that is free: an acquire that fails is an error. */
function acquireRelease<Held>(lock: LockAdapter<Held>): Variant {
  const run = async (i: number) => {
    const held = await lock.acquire(i);
    if (held === null) throw new Error(`${lock.name}: acquire of a free lock failed (operation ${i})`);
    await lock.release(held);
  };
  return {
    name: lock.name,
    async setup() {
      await lock.setup?.();
      await run(0);
    },
    run,
  };
}

/**
 * Each operation is one attempt on a lock others compete for, and a release
 * when it succeeded; `count()` is the number of successful attempts.
 */
function attemptRelease<Held>(lock: LockAdapter<Held>): Variant {
  let acquired = 0;
  const run = async (i: number) => {
    const held = await lock.acquire(i);
    if (held === null) return false;
    acquired++;
    await lock.release(held);
    return true;
  };
  return {
    name: lock.name,
    async setup() {
      await lock.setup?.();
      // Alone, the attempt must succeed: a variant that never acquires would look fast.
      if (!(await run(0))) throw new Error(`${lock.name}: acquire of a free lock failed`);
    },
    run,
    count: () => acquired,
  };
}

/** The variants of `lock-uncontended`: acquire + release of free locks. */
export function uncontendedVariants(redis: RedisConnection, resources: LockResources): Variant[] {
  return variantsOf(redis, resources, acquireRelease);
}

/** The variants of `lock-contended`: attempts on a lock all callers want. */
export function contendedVariants(redis: RedisConnection, resources: LockResources): Variant[] {
  return variantsOf(redis, resources, attemptRelease);
}
