import {
  Mutex,
  type MutexOptions,
  ReadWriteLock,
  type ReadWriteLockOptions,
  Semaphore,
  type SemaphoreOptions,
} from '@redkit/lock';
import { badCallsContract, badOptionsContract } from '@redkit/testing/contracts';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { keysOf } from './helpers.js';

describeTopologies('bad input', (t) => {
  const instances: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
  });
  const mutexOptions = (): MutexOptions => ({ redis: t.redis, namespace: t.namespace });

  describe('constructors', () => {
    badOptionsContract([
      ['ttl 0', () => new Mutex({ ...mutexOptions(), ttl: 0 }), 'ttl: must be at least 10ms'],
      ['negative ttl', () => new Mutex({ ...mutexOptions(), ttl: -5 }), 'ttl: must not be negative'],
      ['ttl text', () => new Mutex({ ...mutexOptions(), ttl: 'soon' as never }), 'ttl: "soon" is not a duration'],
      ['ttl beyond timers', () => new Mutex({ ...mutexOptions(), ttl: '30d' }), 'ttl: must be at most'],
      ['negative wait', () => new Mutex({ ...mutexOptions(), wait: -1 }), 'wait: must not be negative'],
      [
        'retry minDelay above maxDelay',
        () => new Mutex({ ...mutexOptions(), retry: { minDelay: '1s', maxDelay: '10ms' } }),
        'retry.minDelay: must not exceed maxDelay',
      ],
      ['drift factor', () => new Mutex({ ...mutexOptions(), driftFactor: 1 }), 'driftFactor'],
      ['wake-up mode', () => new Mutex({ ...mutexOptions(), wakeUp: 'push' as never }), 'wakeUp'],
      ['zero timeout', () => new Mutex({ ...mutexOptions(), timeout: 0 }), 'timeout: must be greater than 0'],
      ['replicas count 0', () => new Mutex({ ...mutexOptions(), replicas: { count: 0 } }), 'replicas.count'],
      [
        'WAIT longer than the command timeout',
        () => new Mutex({ ...mutexOptions(), replicas: { count: 1, timeout: '5s' } }),
        "replicas.timeout: must be less than the client's command timeout (2000ms)",
      ],
      ['not a client', () => new Mutex({ ...mutexOptions(), redis: {} as never }), 'redis: must be an ioredis'],
      ['bad namespace', () => new Mutex({ ...mutexOptions(), namespace: 'a{b}' }), 'namespace'],
      ['unknown option', () => new Mutex({ ...mutexOptions(), ttL: '1s' } as never), 'ttL'],
      [
        'semaphore without a limit',
        () => new Semaphore({ ...mutexOptions() } as SemaphoreOptions),
        'limit: Invalid input: expected number',
      ],
      ['semaphore limit 0', () => new Semaphore({ ...mutexOptions(), limit: 0 }), 'limit'],
      ['semaphore limit 1.5', () => new Semaphore({ ...mutexOptions(), limit: 1.5 }), 'limit'],
      [
        'read-write lock ttl 0',
        () => new ReadWriteLock({ ...mutexOptions(), ttl: 0 } as ReadWriteLockOptions),
        'ttl: must be at least 10ms',
      ],
    ]);
  });

  describe('calls', () => {
    const mutex = new Mutex(mutexOptions());
    const semaphore = new Semaphore({ ...mutexOptions(), limit: 2 });
    const rw = new ReadWriteLock(mutexOptions());
    instances.push(mutex, semaphore, rw);

    badCallsContract(
      [
        ['empty resource', () => mutex.acquire(''), 'resource: must not be empty'],
        ['resource not a string', () => mutex.acquire(42 as never), 'resource: must be a string'],
        ['resource too long', () => mutex.tryAcquire('x'.repeat(2_000)), 'resource: must be at most 1024 characters'],
        ['empty list', () => mutex.acquire([]), 'resources: must list at least one resource'],
        ['empty resource in a list', () => mutex.acquire(['{a}:1', '']), 'resources.1: must not be empty'],
        ['resources without a shared tag', () => mutex.acquire(['{a}:1', '{b}:2']), 'resources.1: must share'],
        ['ttl 0 on acquire', () => mutex.acquire('r', { ttl: 0 }), 'ttl: must be at least 10ms'],
        ['negative wait on acquire', () => mutex.acquire('r', { wait: -1 }), 'wait: must not be negative'],
        ['wait on tryAcquire', () => mutex.tryAcquire('r', { wait: 10 } as never), 'wait'],
        [
          'signal not an AbortSignal',
          () => mutex.acquire('r', { signal: {} as never }),
          'signal: must be an AbortSignal',
        ],
        ['replicas count 0 on a call', () => mutex.acquire('r', { replicas: { count: 0 } }), 'replicas.count'],
        ['unknown call option', () => mutex.acquire('r', { tll: 5 } as never), 'tll'],
        [
          'withLock autoExtend not boolean',
          () => mutex.withLock('r', () => 1, { autoExtend: 'yes' as never }),
          'autoExtend',
        ],
        ['semaphore with a list', () => semaphore.acquire(['{a}:1'] as never), 'resource: must be a string'],
        ['semaphore empty resource', () => semaphore.withPermit('', () => 1), 'resource: must not be empty'],
        ['semaphore holders of nothing', () => semaphore.holders(''), 'resource: must not be empty'],
        ['semaphore negative wait', () => semaphore.acquire('r', { wait: -1 }), 'wait'],
        ['read lock empty resource', () => rw.acquireRead(''), 'resource: must not be empty'],
        ['write lock ttl 0', () => rw.tryAcquireWrite('r', { ttl: 0 }), 'ttl'],
      ],
      { redis: () => t.redis, namespace: t.namespace },
    );

    it('extend with a bad ttl → InvalidOptionsError, the lock keeps its lease', async () => {
      const other = new Mutex({ redis: t.redis, namespace: `${t.namespace}-extend` });
      instances.push(other);
      const lock = await other.acquire('r');
      const pttl = await t.redis.pttl(`${t.namespace}-extend:{r}:lock`);
      await expect(lock.extend(0)).rejects.toThrow('extend(): invalid options: ttl: must be at least 10ms');
      expect(lock.isValid).toBe(true);
      expect(await t.redis.pttl(`${t.namespace}-extend:{r}:lock`)).toBeLessThanOrEqual(pttl);
      await lock.release();
    });

    it('none of the bad calls above wrote anything', async () => {
      expect(await keysOf(t.redis, t.namespace)).toEqual([]);
    });
  });
});
