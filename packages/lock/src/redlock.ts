/**
 * The Redlock algorithm across several independent Redis masters, behind the
 * same `Lock` interface as the rest of @redkit/lock: `@redkit/lock/redlock`.
 *
 * @module
 */

import { defineScript, driverFor, Keyspace, parseOptions, type TelemetryEmitter, warnIfEvictable } from '@redkit/core';
import { LockBusyError, type QuorumVotes } from './errors.js';
import type { LockEvents } from './events.js';
import type { Lock } from './lock.js';
import { AcquireLoop, type AcquireSpec, type AttemptReply, busyReply } from './machinery/acquire-loop.js';
import type { HeldLock, LeaseOps } from './machinery/held-lock.js';
import { extendLock, lockKeys, releaseLock } from './machinery/lock-scripts.js';
import { Quorum, type QuorumInstance, type Round, type Vote } from './machinery/quorum.js';
import { type ResourceKeys, resourceKeys } from './machinery/resources.js';
import {
  addressOf,
  type RedlockAcquireOptions,
  type RedlockMutexOptions,
  type RedlockTryAcquireOptions,
  type RedlockWithLockOptions,
  type ResolvedRedlockMutexOptions,
  redlockAcquireOptionsSchema,
  redlockMutexOptionsSchema,
  redlockTryAcquireOptionsSchema,
  redlockWithLockOptionsSchema,
} from './options.js';
import acquireQuorumLockSource from './scripts/acquire-quorum-lock.lua';

export { type QuorumBusyDetail, QuorumUnavailableError, type QuorumVotes } from './errors.js';
export type { Lock, LockLostReason, ReleaseStatus } from './lock.js';
export {
  type RedlockAcquireOptions,
  type RedlockMutexOptions,
  type RedlockTryAcquireOptions,
  type RedlockWithLockOptions,
  redlockAcquireOptionsSchema,
  redlockMutexOptionsSchema,
  redlockTryAcquireOptionsSchema,
  redlockWithLockOptionsSchema,
} from './options.js';

const acquireQuorumLock = defineScript<[number, number]>('acquire-quorum-lock', acquireQuorumLockSource);

/** Payload of the `acquired` event of a {@link RedlockMutex}: no fencing token. */
export type RedlockAcquired = { resource: string; attempts: number; durationMs: number };

/** Telemetry events of a {@link RedlockMutex} (those of `Mutex`, with no fencing token in `acquired`). */
export type RedlockEvents = LockEvents<RedlockAcquired>;

/** Most attempts whose votes a `LockBusyError` keeps. */
const keptVotes = 100;

type Operation = 'acquire' | 'extend' | 'release';

const count = <Reply>(votes: readonly Vote<Reply>[], test: (reply: Reply) => boolean): number => {
  let n = 0;
  for (const vote of votes) if (vote.ok && test(vote.reply)) n++;
  return n;
};
const isGranted = (reply: [number, number]) => reply[0] === 1;
const isBusy = (reply: [number, number]) => reply[0] !== 1;
const is = (code: number) => (reply: number) => reply === code;
const isLost = (reply: number) => reply !== 1;

/** The acquire loop on a quorum: waiters poll with backoff (no pub/sub across N servers). */
class QuorumEngine extends AcquireLoop<undefined, RedlockAcquired, AcquireSpec> {
  readonly quorum: Quorum;
  readonly keyspace: Keyspace;

  constructor(options: ResolvedRedlockMutexOptions) {
    const keyspace = new Keyspace(options.namespace);
    const instances = options.clients.map((client) => ({ driver: driverFor(client), address: addressOf(client) }));
    super(
      options,
      options.timeout ?? Math.min(...instances.map(({ driver }) => driver.timeoutMs)),
      'redlock',
      'RedlockMutex',
    );
    this.keyspace = keyspace;
    this.quorum = new Quorum(instances);
    // Locks must not be evicted under memory pressure on any instance; say so once if they may be.
    for (const { driver } of instances) void warnIfEvictable(driver, 'RedlockMutex');
  }

  protected override fenceOf(): undefined {
    return undefined;
  }

  protected override acquiredEvent(lock: HeldLock<undefined>, attempts: number, durationMs: number): RedlockAcquired {
    return { resource: lock.label, attempts, durationMs };
  }
}

/**
 * A mutex on several independent Redis masters (the Redlock algorithm): a
 * lock is held when `floor(N / 2) + 1` of the N instances granted it within
 * its validity, so it survives the loss of a minority of them without
 * relying on replication.
 *
 * Each attempt sends one Lua script to every instance at once and is decided
 * as soon as a quorum granted it or can no longer grant it; a failed attempt
 * gives back what it took before the next one. The lock's validity is
 * counted from when the successful attempt was sent, on the monotonic clock,
 * minus the drift allowance, and its `signal` aborts before the lease could
 * end on the instances. `extend` and `release` need a quorum too; `release`
 * never deletes another holder's lock on any instance.
 *
 * No fencing tokens (`lock.fencingToken` is `undefined`): independent
 * servers cannot issue one number that increases across all of them. Where
 * correctness depends on the lock, use `Mutex`'s fencing tokens instead, or
 * read the trade-offs in docs/lock.md first.
 *
 * The quorum is implemented here, not delegated to node-redlock 5.0.0-beta.2,
 * whose quorum step has the bugs listed in docs/lock.md.
 *
 * @example
 * ```ts
 * import { RedlockMutex } from '@redkit/lock/redlock'
 *
 * const redlock = new RedlockMutex({ clients: [redisA, redisB, redisC], namespace: 'jobs', ttl: '10s' })
 * await redlock.withLock('nightly-report', async (signal) => buildReport({ signal }))
 * ```
 */
export class RedlockMutex {
  /** Typed telemetry events: `acquired`, `busy`, `extended`, `released`, `lost`, `redis-failure` (with `instance`). */
  readonly events: TelemetryEmitter<RedlockEvents>;
  /** The instances, `host:port`, in the order of `clients`. */
  readonly instances: readonly string[];
  /** How many instances must grant a lock: `floor(N / 2) + 1`. */
  readonly quorum: number;
  private readonly engine: QuorumEngine;
  private readonly ops: LeaseOps;

  constructor(options: RedlockMutexOptions) {
    this.engine = new QuorumEngine(parseOptions(redlockMutexOptionsSchema, options, 'RedlockMutex'));
    this.events = this.engine.events;
    const { quorum } = this.engine;
    this.instances = quorum.instances.map((instance) => instance.address);
    this.quorum = quorum.required;
    this.ops = {
      extend: (keys, token, ttlMs, timeoutMs) => this.extendAll(keys, token, ttlMs, timeoutMs),
      release: (keys, token, timeoutMs) => this.releaseAll(keys, token, timeoutMs),
    };
  }

  /**
   * Acquires the lock of `resource` (or of every resource in a list, all or
   * none) on a quorum of the instances, waiting up to `wait` while another
   * holder has it.
   *
   * @throws LockBusyError when the lock stayed taken for the whole `wait`; its `quorum` says how many instances agreed at each attempt.
   * @throws QuorumUnavailableError (a `RedisUnavailableError`) when too few instances answered for a quorum, naming them.
   * @throws the `signal`'s reason when it aborts the wait.
   * @example
   * ```ts
   * await using lock = await redlock.acquire('report:daily', { ttl: '30s', wait: '5s' })
   * ```
   */
  async acquire(resource: string | readonly string[], options?: RedlockAcquireOptions): Promise<Lock> {
    const spec = this.spec(resource, 'acquire()');
    return this.engine.acquire(spec, this.engine.settings(options, redlockAcquireOptionsSchema, 'acquire()', true));
  }

  /**
   * One attempt: the lock, or `null` when another holder has it on enough
   * instances that no quorum was possible.
   *
   * @throws QuorumUnavailableError when too few instances answered for a quorum.
   * @example
   * ```ts
   * const lock = await redlock.tryAcquire('cron:cleanup')
   * if (!lock) return // another worker runs it
   * ```
   */
  async tryAcquire(resource: string | readonly string[], options?: RedlockTryAcquireOptions): Promise<Lock | null> {
    const spec = this.spec(resource, 'tryAcquire()');
    return this.engine.tryAcquire(
      spec,
      this.engine.settings(options, redlockTryAcquireOptionsSchema, 'tryAcquire()', false),
    );
  }

  /**
   * Runs `fn` while holding the lock, as `Mutex.withLock` does: acquires
   * (waiting like {@link acquire}), extends the lease on a quorum every third
   * of its ttl, and releases. `fn`'s signal aborts with `LockLostError` as
   * soon as the lock is lost or its validity runs out before an extension was
   * confirmed. If `fn` throws, that error is what `withLock` rejects with; a
   * failed release is attached to it as `releaseError`.
   *
   * @example
   * ```ts
   * await redlock.withLock('sync:crm', async (signal) => syncCrm({ signal }))
   * ```
   */
  async withLock<T>(
    resource: string | readonly string[],
    fn: (signal: AbortSignal, lock: Lock) => T | Promise<T>,
    options?: RedlockWithLockOptions,
  ): Promise<T> {
    const spec = this.spec(resource, 'withLock()');
    return this.engine.withLock(
      spec,
      this.engine.settings(options, redlockWithLockOptionsSchema, 'withLock()', true),
      fn,
    );
  }

  /**
   * Rejects calls still waiting with `LockClosedError`. Held locks stay valid
   * and can still be extended and released; the clients are not closed.
   */
  close(): Promise<void> {
    return this.engine.close();
  }

  private spec(resource: string | readonly string[], context: string): AcquireSpec {
    const keys = resourceKeys(this.engine.keyspace, resource, context, true);
    const locks = lockKeys(keys);
    const { quorum } = this.engine;
    const votes: QuorumVotes[] = [];
    return {
      keys,
      ops: this.ops,
      attempt: async (token, ttlMs, _waitFlagMs, timeoutMs): Promise<AttemptReply> => {
        // An answer that comes after the lease could have run out is of no use.
        const bound = Math.max(1, Math.min(timeoutMs, ttlMs));
        const round = await quorum.round(
          (instance) => instance.driver.script(acquireQuorumLock, locks, [token, ttlMs], Quorum.call(instance, bound)),
          (received) => {
            const granted = count(received, isGranted);
            return granted >= quorum.required || received.length - granted > quorum.size - quorum.required;
          },
        );
        this.report(round, 'acquire', keys);
        const granted = count(round.votes, isGranted);
        const busy = count(round.votes, isBusy);
        if (votes.length === keptVotes) votes.shift();
        const pending = round.pending.length;
        votes.push({ granted, busy, unreachable: quorum.size - granted - busy - pending, pending });
        if (granted >= quorum.required) return 1;

        await this.giveBack(keys, token, round, bound);
        const failed = round.votes.length - granted - busy;
        if (failed > quorum.size - quorum.required) throw quorum.failure('acquire', round);
        // The holder's lease ends first on the instance where it has the least left.
        let hint = -1;
        for (const vote of round.votes) {
          if (vote.ok && vote.reply[0] !== 1 && vote.reply[1] >= 0) {
            hint = hint < 0 ? vote.reply[1] : Math.min(hint, vote.reply[1]);
          }
        }
        return busyReply(hint);
      },
      cleanup: (token, timeoutMs) => this.releaseAll(keys, token, timeoutMs),
      busyError: (attempts, waitedMs) =>
        new LockBusyError(keys.resources, attempts, waitedMs, {
          instances: quorum.size,
          required: quorum.required,
          votes: [...votes],
        }),
    };
  }

  /**
   * Gives back what a failed attempt took, before the next attempt: a
   * minority of instances held under this token would block every other
   * contender until the ttl ends. Instances that answered "busy" took
   * nothing; those that did not answer yet get the release behind the
   * acquire on the same connection, without waiting for them.
   */
  private async giveBack(
    keys: ResourceKeys,
    token: string,
    round: Round<[number, number]>,
    timeoutMs: number,
  ): Promise<void> {
    const release = (instance: QuorumInstance) => this.sendRelease(instance, keys, token, timeoutMs).catch(() => {});
    for (const instance of round.pending) void release(instance);
    await Promise.all(
      round.votes.filter((vote) => !vote.ok || vote.reply[0] === 1).map((vote) => release(vote.instance)),
    );
  }

  /** Resolves 1 (extended on a quorum), 0 (expired) or -1 (taken) when no quorum can be extended any more. */
  private async extendAll(keys: ResourceKeys, token: string, ttlMs: number, timeoutMs: number): Promise<number> {
    const locks = lockKeys(keys);
    const { quorum } = this.engine;
    const round = await quorum.round(
      (instance) => instance.driver.script(extendLock, locks, [token, ttlMs], Quorum.call(instance, timeoutMs)),
      (received) =>
        count(received, is(1)) >= quorum.required || count(received, isLost) > quorum.size - quorum.required,
    );
    this.report(round, 'extend', keys);
    if (count(round.votes, is(1)) >= quorum.required) return 1;
    // Too few instances still hold it for any quorum: the lock is lost, even if some validity is left.
    if (count(round.votes, isLost) > quorum.size - quorum.required) return count(round.votes, is(-1)) > 0 ? -1 : 0;
    throw quorum.failure('extend', round);
  }

  /**
   * Resolves 1 (released on a quorum), or, when no quorum held it any more,
   * -1 (another holder has it on some instance; left alone) or 0 (expired).
   */
  private async releaseAll(keys: ResourceKeys, token: string, timeoutMs: number): Promise<number> {
    const { quorum } = this.engine;
    const round = await quorum.round(
      (instance) => this.sendRelease(instance, keys, token, timeoutMs),
      (received) => count(received, is(1)) >= quorum.required,
    );
    this.report(round, 'release', keys);
    const released = count(round.votes, is(1));
    if (released >= quorum.required) return 1;
    const answered = count(round.votes, () => true);
    // Instances that failed to answer may have held it too: whether a quorum still held it cannot be told.
    if (released + quorum.size - answered >= quorum.required) throw quorum.failure('release', round);
    return count(round.votes, is(-1)) > 0 ? -1 : 0;
  }

  private sendRelease(instance: QuorumInstance, keys: ResourceKeys, token: string, timeoutMs: number): Promise<number> {
    // The waiters flag is never set by Redlock waiters (they poll), so nothing is published.
    return instance.driver.script(
      releaseLock,
      [keys.waiters, ...lockKeys(keys)],
      [token, `${this.engine.keyspace.namespace}:released`, keys.ids.join('\n')],
      Quorum.call(instance, timeoutMs),
    );
  }

  /** One `redis-failure` event per instance that failed, with its address, once every vote is in. */
  private report(round: Round<unknown>, operation: Operation, keys: ResourceKeys): void {
    const { events } = this.engine;
    if (!events.listens('redis-failure')) return;
    void round.all.then((votes) => {
      for (const vote of votes) {
        if (vote.ok) continue;
        events.emit('redis-failure', {
          resource: keys.resources.join(','),
          operation,
          error: vote.error instanceof Error ? vote.error.message : String(vote.error),
          instance: vote.instance.address,
        });
      }
    });
  }
}
