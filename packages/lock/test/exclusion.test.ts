import { Mutex, ReadWriteLock, Semaphore } from '@redkit/lock';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { closing, sleep } from './helpers.js';

/** Lets every other contender run before the critical section ends, so an overlap would be seen. */
const yieldToOthers = () => new Promise((resolve) => setImmediate(resolve));

describeTopologies('exclusion under contention', (t) => {
  const track = closing();

  it('2,000 acquisitions by 50 contenders on 5 clients: never two holders, fencing tokens strictly increasing', async () => {
    const total = 2_000;
    const mutexes = Array.from({ length: 5 }, () =>
      track(new Mutex({ redis: t.client(), namespace: t.namespace, ttl: '2s', wait: '60s' })),
    );
    const resource = `hot-${Math.random()}`;
    let done = 0;
    let inside = 0;
    let overlaps = 0;
    let outOfOrder = 0;
    let last = -1n;
    const statuses = new Map<string, number>();

    const contender = async (mutex: Mutex) => {
      while (done < total) {
        const lock = await mutex.acquire(resource);
        try {
          if (done >= total) return;
          inside++;
          if (inside !== 1) overlaps++;
          if (lock.fencingToken <= last) outOfOrder++;
          last = lock.fencingToken;
          await yieldToOthers();
          inside--;
          done++;
        } finally {
          const status = await lock.release();
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, index) => contender(mutexes[index % 5] as Mutex)));

    expect(done).toBe(total);
    expect(overlaps).toBe(0);
    expect(outOfOrder).toBe(0);
    // Every critical section ended with the lock still held: none ran on an expired lease.
    expect([...statuses.keys()]).toEqual(['released']);
  }, 120_000);

  it('a semaphore of 3 never admits a 4th holder (30 contenders, 3 clients)', async () => {
    const semaphores = Array.from({ length: 3 }, () =>
      track(new Semaphore({ redis: t.client(), namespace: t.namespace, limit: 3, ttl: '2s', wait: '60s' })),
    );
    const resource = `pool-${Math.random()}`;
    let done = 0;
    let inside = 0;
    let most = 0;
    const contender = async (semaphore: Semaphore) => {
      while (done < 300) {
        await semaphore.withPermit(
          resource,
          async () => {
            inside++;
            most = Math.max(most, inside);
            await sleep(1);
            inside--;
            done++;
          },
          { autoExtend: false },
        );
      }
    };
    await Promise.all(Array.from({ length: 30 }, (_, index) => contender(semaphores[index % 3] as Semaphore)));
    expect(most).toBe(3);
    expect(await (semaphores[0] as Semaphore).holders(resource)).toBe(0);
  }, 120_000);

  it('a read-write lock never lets a writer in with anyone else (20 contenders, 2 clients)', async () => {
    const locks = Array.from({ length: 2 }, () =>
      track(new ReadWriteLock({ redis: t.client(), namespace: t.namespace, ttl: '2s', wait: '60s' })),
    );
    const resource = `doc-${Math.random()}`;
    let readers = 0;
    let writers = 0;
    let violations = 0;
    let mostReaders = 0;
    let writes = 0;
    let lastWriteFence = -1n;
    const contender = async (rw: ReadWriteLock, index: number) => {
      for (let round = 0; round < 15; round++) {
        if ((index + round) % 4 === 0) {
          await rw.withWriteLock(resource, async (_signal, lock) => {
            writers++;
            if (writers !== 1 || readers !== 0) violations++;
            if (lock.fencingToken <= lastWriteFence) violations++;
            lastWriteFence = lock.fencingToken;
            await sleep(1);
            writers--;
            writes++;
          });
        } else {
          await rw.withReadLock(resource, async () => {
            readers++;
            mostReaders = Math.max(mostReaders, readers);
            if (writers !== 0) violations++;
            await sleep(1);
            readers--;
          });
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, index) => contender(locks[index % 2] as ReadWriteLock, index)));
    expect(violations).toBe(0);
    expect(writes).toBe(75);
    // Readers did share the lock.
    expect(mostReaders).toBeGreaterThan(1);
  }, 120_000);
});
