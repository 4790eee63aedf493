import { LockBusyError, ReadWriteLock, type ReadWriteLockOptions } from '@redkit/lock';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { closing, sleep } from './helpers.js';

describeTopologies('read-write lock', (t) => {
  const track = closing();
  const rwlock = (options: Partial<ReadWriteLockOptions> = {}) =>
    track(new ReadWriteLock({ redis: t.redis, namespace: t.namespace, ttl: '5s', wait: '5s', ...options }));
  let counter = 0;
  const resource = () => `doc-${++counter}`;

  it('readers share the lock; a writer excludes everyone', async () => {
    const rw = rwlock();
    const r = resource();
    const readers = await Promise.all([rw.acquireRead(r), rw.acquireRead(r), rw.acquireRead(r)]);
    expect(await rw.tryAcquireWrite(r)).toBeNull();
    for (const reader of readers) expect(await reader.release()).toBe('released');
    const writer = await rw.acquireWrite(r);
    expect(await rw.tryAcquireRead(r)).toBeNull();
    expect(await rw.tryAcquireWrite(r)).toBeNull();
    for (const reader of readers) expect(writer.fencingToken).toBeGreaterThan(reader.fencingToken);
    await writer.extend();
    expect(await writer.release()).toBe('released');
    const reader = await rw.tryAcquireRead(r);
    expect(reader).not.toBeNull();
    await reader?.extend();
    await reader?.release();
  });

  it('a waiting writer holds back new readers, then gets the lock when the readers leave', async () => {
    const rw = rwlock({ retry: { minDelay: '20s', maxDelay: '40s' }, wait: '60s' });
    const r = resource();
    const reader = await rw.acquireRead(r);
    const writing = rw.acquireWrite(r);
    await sleep(150);
    // The writer announced itself: a new reader has to wait behind it.
    expect(await rw.tryAcquireRead(r)).toBeNull();
    const laterReader = rw.acquireRead(r);
    await reader.release();
    const writer = await writing;
    expect(writer.isValid).toBe(true);
    await sleep(50);
    await writer.release();
    const second = await laterReader;
    expect(second.fencingToken).toBeGreaterThan(writer.fencingToken);
    await second.release();
  }, 15_000);

  it('a writer that gives up lets readers in again', async () => {
    const rw = rwlock();
    const r = resource();
    const reader = await rw.acquireRead(r);
    await expect(rw.acquireWrite(r, { wait: 100 })).rejects.toBeInstanceOf(LockBusyError);
    const another = await rw.tryAcquireRead(r);
    expect(another).not.toBeNull();
    await another?.release();
    await reader.release();
  });

  it('withReadLock and withWriteLock run the function under the lock', async () => {
    const rw = rwlock();
    const r = resource();
    const read = await rw.withReadLock(r, async () => {
      expect(await rw.tryAcquireWrite(r)).toBeNull();
      return 'read';
    });
    const written = await rw.withWriteLock(r, async () => {
      expect(await rw.tryAcquireRead(r)).toBeNull();
      return 'written';
    });
    expect([read, written]).toEqual(['read', 'written']);
    const writer = await rw.tryAcquireWrite(r);
    expect(writer).not.toBeNull();
    await writer?.release();
  });
});
