import { connect, type Duration } from '@redkit/core';
import {
  type FencedLock,
  type Lock,
  type LockEvents,
  type LockLostError,
  Mutex,
  type MutexOptions,
  type Permit,
  ReadWriteLock,
  type ReleaseStatus,
  runWithLock,
  Semaphore,
} from '@redkit/lock';
import { describe, expectTypeOf, it } from 'vitest';

describe('lock public types', () => {
  const redis = connect('redis://localhost');

  it('a mutex issues fenced locks that satisfy the shared Lock interface', () => {
    const mutex = new Mutex({ redis });
    expectTypeOf(mutex.acquire('r')).resolves.toEqualTypeOf<FencedLock>();
    expectTypeOf(mutex.acquire(['{a}:1', '{a}:2'])).resolves.toEqualTypeOf<FencedLock>();
    expectTypeOf(mutex.tryAcquire('r')).resolves.toEqualTypeOf<FencedLock | null>();
    expectTypeOf<FencedLock>().toExtend<Lock>();
    expectTypeOf<FencedLock['fencingToken']>().toEqualTypeOf<bigint>();
    expectTypeOf<Lock['fencingToken']>().toEqualTypeOf<bigint | undefined>();
    expectTypeOf<Lock>().toExtend<AsyncDisposable>();
    expectTypeOf<Lock['release']>().returns.resolves.toEqualTypeOf<ReleaseStatus>();
    expectTypeOf<ReleaseStatus>().toEqualTypeOf<'released' | 'expired' | 'taken'>();
    expectTypeOf<Lock['extend']>().parameter(0).toEqualTypeOf<Duration | undefined>();
  });

  it('withLock passes a signal and the lock, and resolves to fn’s value', () => {
    const mutex = new Mutex({ redis });
    expectTypeOf(mutex.withLock('r', async () => 42)).resolves.toEqualTypeOf<number>();
    expectTypeOf(mutex.withLock('r', () => 'sync')).resolves.toEqualTypeOf<string>();
    mutex.withLock('r', (signal, lock) => {
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(lock.fencingToken).toEqualTypeOf<bigint>();
    });
  });

  it('runWithLock accepts any Lock implementation and passes it through', () => {
    const lock = {} as Lock;
    runWithLock(
      lock,
      (_signal, held) => {
        expectTypeOf(held).toEqualTypeOf<Lock>();
      },
      { extendEvery: false },
    );
    expectTypeOf(runWithLock({} as FencedLock, () => 1n, { extendEvery: 100 })).resolves.toEqualTypeOf<bigint>();
  });

  it('options take durations; unknown lock kinds and methods are rejected', () => {
    expectTypeOf<MutexOptions['ttl']>().toEqualTypeOf<Duration | undefined>();
    expectTypeOf<MutexOptions['wakeUp']>().toEqualTypeOf<'pubsub' | 'poll' | undefined>();
    // @ts-expect-error a semaphore needs a limit
    new Semaphore({ redis });
    // @ts-expect-error a semaphore locks one resource at a time
    new Semaphore({ redis, limit: 2 }).acquire(['{a}:1']);
    expectTypeOf(new Semaphore({ redis, limit: 2 }).withPermit('r', () => 1)).resolves.toEqualTypeOf<number>();
    expectTypeOf<Permit>().toEqualTypeOf<FencedLock>();
    expectTypeOf(new ReadWriteLock({ redis }).acquireRead('r')).resolves.toEqualTypeOf<FencedLock>();
  });

  it('events and errors are typed', () => {
    expectTypeOf(new Mutex({ redis }).events.on)
      .parameter(0)
      .toEqualTypeOf<'acquired' | 'busy' | 'extended' | 'released' | 'lost' | 'redis-failure'>();
    expectTypeOf<LockEvents['lost']['reason']>().toEqualTypeOf<'expired' | 'taken' | 'validity' | 'released'>();
    expectTypeOf<LockLostError['reason']>().toEqualTypeOf<LockEvents['lost']['reason']>();
  });
});
