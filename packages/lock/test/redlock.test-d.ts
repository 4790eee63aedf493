import { connect, type Duration } from '@redkit/core';
import type { Lock, LockBusyError, QuorumBusyDetail } from '@redkit/lock';
import {
  type QuorumUnavailableError,
  type RedlockAcquireOptions,
  type RedlockEvents,
  RedlockMutex,
  type RedlockMutexOptions,
} from '@redkit/lock/redlock';
import { describe, expectTypeOf, it } from 'vitest';

describe('redlock public types', () => {
  const clients = [connect('redis://a'), connect('redis://b'), connect('redis://c')];

  it('issues Locks without a fencing token, through the same interface', () => {
    const redlock = new RedlockMutex({ clients });
    expectTypeOf(redlock.acquire('r')).resolves.toEqualTypeOf<Lock>();
    expectTypeOf(redlock.acquire(['{a}:1', '{a}:2'])).resolves.toEqualTypeOf<Lock>();
    expectTypeOf(redlock.tryAcquire('r')).resolves.toEqualTypeOf<Lock | null>();
    expectTypeOf(redlock.withLock('r', async () => 42)).resolves.toEqualTypeOf<number>();
    redlock.withLock('r', (signal, lock) => {
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(lock.fencingToken).toEqualTypeOf<bigint | undefined>();
    });
    expectTypeOf(redlock.quorum).toEqualTypeOf<number>();
    expectTypeOf(redlock.instances).toEqualTypeOf<readonly string[]>();
  });

  it('options are Mutex’s, with clients instead of redis and neither replicas nor wakeUp', () => {
    expectTypeOf<RedlockMutexOptions['ttl']>().toEqualTypeOf<Duration | undefined>();
    // @ts-expect-error clients are required
    new RedlockMutex({ ttl: '1s' });
    // @ts-expect-error one client per master, not a single redis
    new RedlockMutex({ redis: clients[0] });
    // @ts-expect-error no WAIT across independent masters
    new RedlockMutex({ clients, replicas: { count: 1 } });
    expectTypeOf<RedlockAcquireOptions>().not.toHaveProperty('replicas');
  });

  it('errors and events say what the quorum did', () => {
    expectTypeOf<QuorumUnavailableError['unreachable']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<LockBusyError['quorum']>().toEqualTypeOf<QuorumBusyDetail | undefined>();
    expectTypeOf<RedlockEvents['acquired']>().not.toHaveProperty('fencingToken');
    expectTypeOf<RedlockEvents['redis-failure']['instance']>().toEqualTypeOf<string | undefined>();
  });
});
