/**
 * Shared lock machinery: the acquire loop bound to one Redis server or cluster
 * (driver, key space, wake-ups, replica waits, fencing tokens), which `Mutex`,
 * `Semaphore` and `ReadWriteLock` build on.
 */
import {
  type CallOptions,
  checkReplicaWait,
  driverFor,
  Keyspace,
  type RedisDriver,
  waitForReplicas,
  warnIfEvictable,
} from '@redkit/core';
import { LockReplicationError } from '../errors.js';
import type { FencedAcquired } from '../events.js';
import type { ResolvedLockOptions } from '../options.js';
import { AcquireLoop, type AttemptReply, type CallSettings, type AcquireSpec as LoopSpec } from './acquire-loop.js';
import type { HeldLock } from './held-lock.js';
import { WakeUps } from './wake-ups.js';

/** How one kind of lock takes its lock on one Redis server or cluster. */
export interface AcquireSpec extends LoopSpec {
  /** A key in the resources' slot: WAIT must reach the master that holds the lock. */
  readonly routeKey: string;
}

/**
 * The shared acquire loop (see {@link AcquireLoop}) on one Redis server or
 * cluster: its driver and keyspace, pub/sub wake-ups, and WAIT for replicas.
 * One per `Mutex`, `Semaphore` or `ReadWriteLock`.
 */
export class LockEngine extends AcquireLoop<bigint, FencedAcquired, AcquireSpec> {
  readonly driver: RedisDriver;
  readonly keyspace: Keyspace;
  readonly options: ResolvedLockOptions;

  constructor(options: ResolvedLockOptions, pattern: string, kind: string) {
    const driver = driverFor(options.redis);
    super(options, options.timeout ?? driver.timeoutMs, pattern, kind);
    this.options = options;
    this.keyspace = new Keyspace(options.namespace);
    this.driver = driver;
    this.checkReplicas(options.replicas, 'replicas', kind);
    if (options.wakeUp === 'pubsub') {
      this.wakeUps = new WakeUps(this.driver, `${options.namespace}:released`, (error) =>
        this.events.emit('redis-failure', {
          resource: '',
          operation: 'acquire',
          error: `wake-up subscription failed, waiters poll: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
    }
    // Locks must not be evicted under memory pressure; say so once if they may be.
    void warnIfEvictable(this.driver, kind);
  }

  /**
   * Per-call options for a bound of `timeoutMs`: none when it is the client's
   * own command timeout, which bounds the call without an extra timer.
   */
  call(timeoutMs: number): CallOptions | undefined {
    return timeoutMs === this.driver.timeoutMs ? undefined : { timeoutMs };
  }

  /** The pub/sub channel of wake-up messages. */
  get channel(): string {
    return `${this.options.namespace}:released`;
  }

  protected override checkReplicas(replicas: ResolvedLockOptions['replicas'], path: string, context: string): void {
    checkReplicaWait(replicas, this.driver, path, context);
  }

  protected override afterAcquire(
    lock: HeldLock<bigint>,
    spec: AcquireSpec,
    settings: CallSettings,
  ): Promise<void> | undefined {
    return settings.replicas ? this.replicate(lock, spec, settings.replicas) : undefined;
  }

  protected override fenceOf(reply: AttemptReply): bigint {
    return BigInt(reply);
  }

  protected override acquiredEvent(lock: HeldLock<bigint>, attempts: number, durationMs: number): FencedAcquired {
    return { resource: lock.label, fencingToken: String(lock.fencingToken), attempts, durationMs };
  }

  /** WAIT for replicas on the master that holds the lock; release it if too few acknowledged (by default). */
  private async replicate(
    lock: HeldLock<bigint>,
    spec: AcquireSpec,
    replicas: NonNullable<ResolvedLockOptions['replicas']>,
  ): Promise<void> {
    let acknowledged: number;
    try {
      // PTTL of a key in the lock's slot routes WAIT, on a cluster, to the lock's master.
      ({ acknowledged } = await waitForReplicas(this.driver, [['PTTL', spec.routeKey]], replicas, this.timeoutMs));
    } catch (error) {
      this.events.emit('redis-failure', {
        resource: lock.label,
        operation: 'replicate',
        error: error instanceof Error ? error.message : String(error),
      });
      await lock.release().catch(() => {});
      throw error;
    }
    lock.replicas = acknowledged;
    if (acknowledged < replicas.count && replicas.onShortfall === 'release') {
      await lock.release().catch(() => {});
      throw new LockReplicationError(lock.resources, acknowledged, replicas.count);
    }
  }
}
