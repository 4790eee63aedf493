import { Mutex, ReadWriteLock, Semaphore } from '@redkit/lock';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';
import { sleep } from './helpers.js';

/** The commands listed in packages/lock/README.md and docs/lock.md under "ACL". */
const commands = [
  'evalsha',
  'eval',
  'get',
  'mget',
  'set',
  'del',
  'exists',
  'pexpire',
  'pttl',
  'time',
  'zadd',
  'zrem',
  'zscore',
  'zcard',
  'zcount',
  'zrange',
  'zremrangebyscore',
  'publish',
  'subscribe',
  'unsubscribe',
  'wait',
];

leastPrivilegeContract({
  name: 'lock',
  commands,
  channels: (namespace) => [`${namespace}:*`],
  title: 'every operation works with exactly the documented commands, keys and channels',
  run: async (redis, t) => {
    const options = { redis, namespace: t.namespace, ttl: '5s', wait: '5s' } as const;
    const mutex = new Mutex({ ...options, retry: { minDelay: '20s', maxDelay: '20s' } });
    const semaphore = new Semaphore({ ...options, limit: 1 });
    const rw = new ReadWriteLock(options);
    const failures: string[] = [];
    for (const events of [mutex.events, semaphore.events, rw.events]) {
      events.on('redis-failure', ({ error }) => failures.push(error));
    }
    try {
      // Mutex: wait (woken by pub/sub: the backoff is 20 s), extend, release, several resources, WAIT.
      const held = await mutex.acquire('{m}:1');
      const waiting = mutex.acquire('{m}:1');
      await sleep(100);
      await held.extend();
      expect(await held.release()).toBe('released');
      const next = await waiting;
      await next.release();
      const both = await mutex.acquire(['{m}:1', '{m}:2'], {
        replicas: { count: 1, timeout: 50, onShortfall: 'keep' },
      });
      expect(both.replicas).toBe(t.replicas);
      await mutex.withLock('{m}:3', async () => {
        expect(await mutex.tryAcquire('{m}:3')).toBeNull();
      });
      await both.release();

      // Semaphore: acquire, extend, count, release.
      const permit = await semaphore.acquire('s');
      await permit.extend();
      expect(await semaphore.holders('s')).toBe(1);
      expect(await semaphore.tryAcquire('s')).toBeNull();
      expect(await permit.release()).toBe('released');

      // Read-write lock: readers, a writer that gives up, a writer that gets in.
      const reader = await rw.acquireRead('d');
      await reader.extend();
      await expect(rw.acquireWrite('d', { wait: 50 })).rejects.toMatchObject({ code: 'E_LOCK_BUSY' });
      await reader.release();
      const writer = await rw.acquireWrite('d');
      await writer.extend();
      await writer.release();

      expect(failures).toEqual([]);
    } finally {
      await Promise.all([mutex.close(), semaphore.close(), rw.close()]);
    }
  },
});
