import { Cache } from '@redkit/cache';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, expect, it } from 'vitest';
import { sleep, waitFor } from './helpers.js';

describeTopologies('stampede protection', (t) => {
  const caches: Cache[] = [];
  afterAll(() => Promise.all(caches.map((cache) => cache.close())));
  const instances = (count: number, namespace: string) =>
    Array.from({ length: count }, () => {
      const cache = new Cache({ redis: t.client(), namespace, ttl: '1m' });
      caches.push(cache);
      return cache;
    });

  it('200 concurrent getOrSet for one missing key from 4 clients call the loader exactly once', async () => {
    const four = instances(4, `${t.namespace}:one`);
    let loads = 0;
    const collapsed = { 'in-process': 0, lease: 0 };
    let hits = 0;
    for (const cache of four) {
      cache.events.on('stampede-collapsed', ({ via }) => collapsed[via]++);
      cache.events.on('hit', () => hits++);
    }
    const loader = async () => {
      loads++;
      // The load lasts until every other caller arrived: each missed and joined its own process's load
      // (50 callers per instance: 49 of them in-process), not for a guessed duration.
      await waitFor(() => collapsed['in-process'] === 196, { what: '196 callers to join a load in their process' });
      return { value: 'loaded once', at: Date.now() };
    };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (four[i % 4] as Cache).getOrSet('hot', loader)),
    );
    expect(loads).toBe(1);
    const first = results[0];
    for (const result of results) expect(result).toEqual(first);
    // Every caller but the loading one collapsed (in its own process, or on the
    // other process's lease) or, on a slow machine, arrived after the write and hit.
    expect(collapsed['in-process'] + collapsed.lease + hits).toBe(199);
    expect(collapsed.lease).toBeGreaterThanOrEqual(3);
  });

  it('waiters are woken by the write, not by their polling interval', async () => {
    const [loader, waiter] = instances(2, `${t.namespace}:wake`) as [Cache, Cache];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let leaseTaken: () => void = () => {};
    const loaderStarted = new Promise<void>((resolve) => {
      leaseTaken = resolve;
    });
    const loading = loader.getOrSet('k', async () => {
      leaseTaken();
      await gate;
      return 'v';
    });
    await loaderStarted;
    const waiting = waiter.getOrSet('k', async () => 'second loader must not run');
    // Long enough for the waiter's poll to back off to its longest pause (400 ms).
    await sleep(900);
    const released = performance.now();
    release();
    expect(await loading).toBe('v');
    expect(await waiting).toBe('v');
    // Woken by the invalidation message, well before its next poll would have come.
    expect(performance.now() - released).toBeLessThan(300);
  });

  it('when the lease holder never writes, waiters load it themselves after lockWait', async () => {
    const namespace = `${t.namespace}:stuck`;
    const [stuck] = instances(1, namespace) as [Cache];
    const impatient = new Cache({ redis: t.client(), namespace, lockWait: 300, ttl: '1m' });
    caches.push(impatient);
    let leaseTaken: () => void = () => {};
    const loaderStarted = new Promise<void>((resolve) => {
      leaseTaken = resolve;
    });
    const never = stuck
      .getOrSet(
        'k',
        () => {
          leaseTaken();
          return new Promise<string>(() => {});
        },
        { hardTimeout: 5_000 },
      )
      .catch(() => 'timed out');
    await loaderStarted;
    const started = performance.now();
    expect(await impatient.getOrSet('k', async () => 'loaded by the waiter')).toBe('loaded by the waiter');
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(performance.now() - started).toBeLessThan(2_000);
    void never;
  });

  it('a stale value is served while another process holds the lease', async () => {
    const namespace = `${t.namespace}:stalelease`;
    const [a, b] = instances(2, namespace) as [Cache, Cache];
    const graceful = new Cache({ redis: t.client(), namespace, ttl: 200, grace: '1m', staleWhileRevalidate: false });
    caches.push(graceful);
    await a.set('k', 'old', { ttl: 200, grace: '1m' });
    await sleep(300);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let leaseTaken: () => void = () => {};
    const loaderStarted = new Promise<void>((resolve) => {
      leaseTaken = resolve;
    });
    const refreshing = graceful.getOrSet('k', async () => {
      leaseTaken();
      await gate;
      return 'new';
    });
    await loaderStarted;
    const served: string[] = [];
    b.events.on('stale-served', ({ reason }) => served.push(reason));
    const other = new Cache({ redis: t.client(), namespace, ttl: 200, grace: '1m', staleWhileRevalidate: false });
    caches.push(other);
    other.events.on('stale-served', ({ reason }) => served.push(reason));
    expect(await other.getOrSet('k', async () => 'must not load')).toBe('old');
    expect(served).toEqual(['lock-wait']);
    release();
    expect(await refreshing).toBe('new');
  });
});
