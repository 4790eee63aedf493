import { LockBusyError, LockLostError, Semaphore, type SemaphoreOptions } from '@redkit/lock';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { closing, keysOf, sleep } from './helpers.js';

describeTopologies('semaphore', (t) => {
  const track = closing();
  const semaphore = (options: Partial<SemaphoreOptions> = {}) =>
    track(new Semaphore({ redis: t.redis, namespace: t.namespace, limit: 3, ttl: '5s', wait: '5s', ...options }));
  let counter = 0;
  const resource = () => `pool-${++counter}`;

  it('admits limit holders, then none until one releases', async () => {
    const s = semaphore();
    const r = resource();
    const permits = await Promise.all([s.acquire(r), s.acquire(r), s.acquire(r)]);
    expect(new Set(permits.map((permit) => permit.token)).size).toBe(3);
    expect(await s.holders(r)).toBe(3);
    expect(await s.tryAcquire(r)).toBeNull();
    expect(await permits[0]?.release()).toBe('released');
    expect(await permits[0]?.release()).toBe('released');
    const fourth = await s.tryAcquire(r);
    expect(fourth).not.toBeNull();
    const tokens = [...permits.map((permit) => permit.fencingToken)];
    for (const token of tokens) expect(fourth?.fencingToken).toBeGreaterThan(token);
    for (const permit of [...permits.slice(1), fourth]) await permit?.release();
    expect(await s.holders(r)).toBe(0);
    // Nothing but the fencing counter stays behind.
    expect(await keysOf(t.redis, t.namespace)).not.toContain(`${t.namespace}:{${r}}:permits`);
  });

  it('reclaims the permits of crashed holders after their lease', async () => {
    const s = semaphore({ retry: { minDelay: '10s', maxDelay: '20s' } });
    const r = resource();
    // Three holders that never release (they "crashed"). Leases taken together still end at slightly
    // different moments; these end far apart on purpose, so a new holder gets in while other crashed
    // leases are live. What is checked below holds whatever order and moments they end at.
    const crashed = await Promise.all([
      s.acquire(r, { ttl: 150 }),
      s.acquire(r, { ttl: 300 }),
      s.acquire(r, { ttl: 450 }),
    ]);
    expect(await s.tryAcquire(r)).toBeNull();
    // Each new holder waits until a crashed lease ends (a busy attempt learns when the earliest one
    // does), so getting all three means every crashed permit came back; never more than the limit.
    const taken = [];
    for (let i = 0; i < 3; i++) {
      const permit = await s.acquire(r, { wait: '10s', ttl: '10s' });
      expect(permit.isValid).toBe(true);
      taken.push(permit);
      expect(await s.holders(r)).toBeLessThanOrEqual(3);
    }
    expect(await s.holders(r)).toBe(3);
    expect(await s.tryAcquire(r)).toBeNull();
    // The crashed holders' permits are gone, not counted next to the new ones.
    for (const permit of crashed) expect(await permit.release()).toBe('expired');
    for (const permit of taken) expect(await permit.release()).toBe('released');
    expect(await s.holders(r)).toBe(0);
  }, 15_000);

  it('a waiter is woken when a permit is released', async () => {
    const s = semaphore({ limit: 1, retry: { minDelay: '20s', maxDelay: '40s' }, wait: '60s', ttl: '60s' });
    const r = resource();
    const held = await s.acquire(r);
    const waiting = s.acquire(r);
    await sleep(100);
    await held.release();
    const permit = await waiting;
    expect(permit.isValid).toBe(true);
    await permit.release();
  }, 15_000);

  it('extend keeps a permit; an expired permit cannot be extended or released, and its slot is reused', async () => {
    const s = semaphore({ limit: 1 });
    const r = resource();
    const permit = await s.acquire(r, { ttl: 200 });
    await permit.extend('5s');
    await sleep(300);
    expect(permit.isValid).toBe(true);
    expect(await s.tryAcquire(r)).toBeNull();
    await permit.extend(60);
    await sleep(150);
    const next = await s.acquire(r);
    await expect(permit.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(await permit.release()).toBe('expired');
    expect(await s.holders(r)).toBe(1);
    await next.release();
  });

  it('withPermit runs the function and gives the permit back; acquire throws LockBusyError after wait', async () => {
    const s = semaphore({ limit: 1 });
    const r = resource();
    const value = await s.withPermit(r, async (signal, permit) => {
      expect(signal.aborted).toBe(false);
      expect(await s.holders(r)).toBe(1);
      await expect(s.acquire(r, { wait: 50 })).rejects.toBeInstanceOf(LockBusyError);
      return permit.resources[0];
    });
    expect(value).toBe(r);
    expect(await s.holders(r)).toBe(0);
  });
});
