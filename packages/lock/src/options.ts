import {
  replicasSchema as coreReplicasSchema,
  durationSchema,
  isCluster,
  isRedisConnection,
  type RedisConnection,
  redisConnectionSchema,
} from '@redkit/core';
import { z } from 'zod';

/** Longest ttl or wait: Node timers cannot be set further out (about 24.8 days). */
export const maxDurationMs = 2_147_483_647;

const ttlSchema = durationSchema({ min: 10, max: maxDurationMs });
const waitSchema = durationSchema({ min: 0, max: maxDurationMs });

const retrySchema = z
  .object({
    /** First pause between attempts; doubles up to `maxDelay`, with jitter. @default "10ms" */
    minDelay: durationSchema({ min: 1, max: 60_000 }).default(10),
    /** Longest pause between attempts. @default "500ms" */
    maxDelay: durationSchema({ min: 1, max: 60_000 }).default(500),
  })
  .strict()
  .refine((retry) => retry.minDelay <= retry.maxDelay, {
    path: ['minDelay'],
    message: 'must not exceed maxDelay',
  });

/**
 * `onShortfall`, when fewer replicas acknowledged in time: `release` the lock
 * and throw `LockReplicationError`, or `keep` it and report the count in
 * `lock.replicas`. @default "release"
 */
const replicasSchema = coreReplicasSchema(['release', 'keep'], 'release');

/** Lease settings every lock kind has, the Redlock adapter included. */
const leaseOptions = {
  /**
   * Lease length: a holder that dies loses the lock after this long.
   * @default "10s"
   */
  ttl: ttlSchema.default(10_000),
  /** How long `acquire` waits for a taken lock before `LockBusyError`. @default "10s" */
  wait: waitSchema.default(10_000),
  /** Pauses between attempts while waiting (exponential backoff with jitter). */
  retry: retrySchema.default({ minDelay: 10, maxDelay: 500 }),
  /**
   * Share of the ttl subtracted from a lock's validity to allow for
   * clock-rate differences between this process and Redis (plus 2 ms; a
   * further 5% of the ttl, at most 100 ms, allows for late timers). @default 0.01
   */
  driftFactor: z.number().min(0).max(0.5).default(0.01),
  /** Bound on each call to Redis. @default the client's command timeout */
  timeout: durationSchema({ min: 1, max: 60_000 }).optional(),
};

const sharedOptions = {
  redis: redisConnectionSchema,
  ...leaseOptions,
  /**
   * How waiters learn that a lock was released: `pubsub` (a wake-up message,
   * with polling as a fallback; opens one subscriber connection per instance)
   * or `poll` (backoff only). @default "pubsub"
   */
  wakeUp: z.enum(['pubsub', 'poll']).default('pubsub'),
  /**
   * After acquiring, wait for this many replicas to acknowledge the lock
   * (Redis `WAIT`), so a failover is less likely to lose it. @default undefined (no WAIT)
   */
  replicas: replicasSchema.optional(),
};

/** Options of `Mutex`. */
export const mutexOptionsSchema = z
  .object({
    ...sharedOptions,
    /** Key prefix: keys are `<namespace>:{<resource>}:…`. @default "lock" */
    namespace: z.string().default('lock'),
  })
  .strict();

/** Options of `Semaphore`. */
export const semaphoreOptionsSchema = z
  .object({
    ...sharedOptions,
    /** Key prefix. @default "semaphore" */
    namespace: z.string().default('semaphore'),
    /** Most permits held at once per resource. Every instance sharing a resource must use the same limit. */
    limit: z.number().int().min(1).max(1_000_000),
  })
  .strict();

/** Options of `ReadWriteLock`. */
export const readWriteLockOptionsSchema = z
  .object({
    ...sharedOptions,
    /** Key prefix. @default "rwlock" */
    namespace: z.string().default('rwlock'),
  })
  .strict();

export type MutexOptions = z.input<typeof mutexOptionsSchema>;
export type SemaphoreOptions = z.input<typeof semaphoreOptionsSchema>;
export type ReadWriteLockOptions = z.input<typeof readWriteLockOptionsSchema>;
/** Settings every lock kind shares, after defaults. */
export type ResolvedLockOptions = z.output<typeof mutexOptionsSchema>;
export type ReplicasOptions = z.input<typeof replicasSchema>;

const abortSignalSchema = z.custom<AbortSignal>((value) => value instanceof AbortSignal, {
  message: 'must be an AbortSignal',
});

/** Options of one `tryAcquire` call: a single attempt. */
export const tryAcquireOptionsSchema = z
  .object({
    /** Lease length of this lock. @default the instance's `ttl` */
    ttl: ttlSchema.optional(),
    /** Overrides the instance's `replicas` for this call (`false`: no WAIT). */
    replicas: z.union([replicasSchema, z.literal(false)]).optional(),
  })
  .strict();

/** Options of one `acquire` call. */
export const acquireOptionsSchema = tryAcquireOptionsSchema
  .extend({
    /** How long to wait for a taken lock. @default the instance's `wait` */
    wait: waitSchema.optional(),
    /** Stops waiting: the call rejects with the signal's reason. */
    signal: abortSignalSchema.optional(),
  })
  .strict();

/** Options of one `withLock` / `withPermit` / `withReadLock` / `withWriteLock` call. */
export const withLockOptionsSchema = acquireOptionsSchema
  .extend({
    /**
     * Extend the lease every third of its ttl while the function runs.
     * @default true
     */
    autoExtend: z.boolean().default(true),
  })
  .strict();

export type TryAcquireOptions = z.input<typeof tryAcquireOptionsSchema>;
export type AcquireOptions = z.input<typeof acquireOptionsSchema>;
export type WithLockOptions = z.input<typeof withLockOptionsSchema>;
export type ResolvedWithLockOptions = z.output<typeof withLockOptionsSchema>;

/** `extend(ttl)` of a held lock. */
export const extendSchema = z.object({ ttl: ttlSchema });

/** Where a standalone client connects (`host:port`, its socket path, or its Sentinel master), to tell servers apart. */
export function addressOf(client: RedisConnection): string {
  const options =
    (
      client as {
        options?: { host?: string; port?: number; path?: string | null; sentinels?: unknown[] | null; name?: string };
      }
    ).options ?? {};
  if (options.sentinels?.length) return `sentinel master ${options.name ?? 'mymaster'}`;
  return options.path ? options.path : `${options.host ?? 'localhost'}:${options.port ?? 6379}`;
}

/**
 * The clients of a Redlock quorum: standalone clients of distinct servers.
 * Two clients of one server would let that server vote twice.
 */
const quorumClientsSchema = z
  .array(redisConnectionSchema)
  .min(1, 'must list at least one client (one per independent Redis master)')
  .max(99)
  .superRefine((clients, ctx) => {
    const seen = new Map<string, number>();
    clients.forEach((client, index) => {
      if (!isRedisConnection(client)) return;
      if (isCluster(client)) {
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message:
            'must be a standalone client: Redlock needs independent masters, and a Redis Cluster is one system (use Mutex on a cluster)',
        });
        return;
      }
      const address = addressOf(client);
      const first = seen.get(address);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [index],
          message: `connects to ${address} like clients.${first}: each client must reach a different, independent Redis master`,
        });
      } else seen.set(address, index);
    });
  });

/** Options of `RedlockMutex` (`@redkit/lock/redlock`). */
export const redlockMutexOptionsSchema = z
  .object({
    /**
     * One standalone client per independent Redis master (typically 3 or 5).
     * A lock needs `floor(N / 2) + 1` of them.
     */
    clients: quorumClientsSchema,
    /** Key prefix: keys are `<namespace>:{<resource>}:lock` on every instance. @default "redlock" */
    namespace: z.string().default('redlock'),
    ...leaseOptions,
  })
  .strict();

/** Options of one `RedlockMutex.tryAcquire` call: a single attempt. */
export const redlockTryAcquireOptionsSchema = tryAcquireOptionsSchema.omit({ replicas: true });
/** Options of one `RedlockMutex.acquire` call. */
export const redlockAcquireOptionsSchema = acquireOptionsSchema.omit({ replicas: true });
/** Options of one `RedlockMutex.withLock` call. */
export const redlockWithLockOptionsSchema = withLockOptionsSchema.omit({ replicas: true });

export type RedlockMutexOptions = z.input<typeof redlockMutexOptionsSchema>;
export type ResolvedRedlockMutexOptions = z.output<typeof redlockMutexOptionsSchema>;
export type RedlockTryAcquireOptions = z.input<typeof redlockTryAcquireOptionsSchema>;
export type RedlockAcquireOptions = z.input<typeof redlockAcquireOptionsSchema>;
export type RedlockWithLockOptions = z.input<typeof redlockWithLockOptionsSchema>;
