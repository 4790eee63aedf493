import { Cache, type CacheOptions, LoaderTimeoutError } from '@redkit/cache';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, expect, it } from 'vitest';
import { eventually, nextEvent, sleep } from './helpers.js';

describeTopologies('refresh-ahead and stale serving', (t) => {
  const caches: Cache[] = [];
  afterAll(() => Promise.all(caches.map((cache) => cache.close())));
  const cache = (options: Omit<CacheOptions, 'redis'>) => {
    const instance = new Cache({ redis: t.client(), ...options });
    caches.push(instance);
    return instance;
  };

  it.each([
    ['fraction 0.7', { fraction: 0.7 }],
    ['XFetch beta 3', { beta: 3 }],
  ] as const)(
    'refresh-ahead (%s): steady reads of a 1 s key never miss over 10 s; the loader runs about once per ttl',
    async (name, refreshAhead) => {
      const hot = cache({
        namespace: `${t.namespace}:ra:${name.replace(/\s/g, '')}`,
        ttl: 1_000,
        jitter: 0,
        refreshAhead,
      });
      let loads = 0;
      let misses = 0;
      hot.events.on('miss', () => misses++);
      const loader = async () => {
        loads++;
        await sleep(20);
        return loads;
      };
      await hot.getOrSet('k', loader);
      misses = 0;
      // Four readers, so reads stay dense near expiry even when a busy machine slows each one down:
      // XFetch decides per read, and a sparse read stream would give it few chances to refresh early.
      const started = performance.now();
      const reader = async () => {
        while (performance.now() - started < 10_000) {
          await hot.getOrSet('k', loader);
          await sleep(10);
        }
      };
      await Promise.all([reader(), reader(), reader(), reader()]);
      expect(misses).toBe(0);
      // Without refresh-ahead there would be a miss each second. A refresh starts no earlier than
      // (1 − fraction) · ttl before expiry (XFetch: effectively within a few δ of it), so over 10 s the
      // loader runs at least 10 times and at most 10 / fraction (+2 for the first load and scheduling);
      // XFetch refreshes within a few β·δ (δ ≈ 50 ms here) of expiry, so at most about twice a second.
      const lowest = 10;
      const highest = 'fraction' in refreshAhead ? Math.ceil(10 / refreshAhead.fraction) + 2 : 20;
      expect(loads).toBeGreaterThanOrEqual(lowest);
      expect(loads).toBeLessThanOrEqual(highest);
    },
    20_000,
  );

  it('stale-while-revalidate: within grace the stale value is returned at once and refreshed in the background', async () => {
    const swr = cache({ namespace: `${t.namespace}:swr`, ttl: 200, grace: '1m', jitter: 0 });
    await swr.getOrSet('k', async () => 'v1');
    await sleep(300);
    let loads = 0;
    const refreshed = nextEvent(swr.events, 'refresh');
    const started = performance.now();
    const value = await swr.getOrSet('k', async () => {
      loads++;
      await sleep(200);
      return 'v2';
    });
    expect(value).toBe('v1');
    expect(performance.now() - started).toBeLessThan(150);
    expect(await refreshed).toMatchObject({ key: 'k', background: true });
    expect(loads).toBe(1);
    expect(await swr.get('k')).toBe('v2');
  });

  it('past grace, a stale value is gone: the caller waits for the loader', async () => {
    const short = cache({ namespace: `${t.namespace}:pastgrace`, ttl: 100, grace: 100, jitter: 0 });
    await short.set('k', 'old');
    await sleep(300);
    expect(await short.getOrSet('k', async () => 'new')).toBe('new');
  });

  it('stale-if-error: a failing loader yields the stale value, and is left alone for errorBackoff', async () => {
    const sie = cache({
      namespace: `${t.namespace}:sie`,
      ttl: 100,
      grace: '1m',
      jitter: 0,
      staleWhileRevalidate: false,
      errorBackoff: 500,
    });
    await sie.set('k', 'stale but fine');
    await sleep(200);
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('database down');
    };
    const errors: unknown[] = [];
    sie.events.on('loader-error', ({ error }) => errors.push(error));
    expect(await sie.getOrSet('k', failing)).toBe('stale but fine');
    expect(await sie.getOrSet('k', failing)).toBe('stale but fine');
    expect(await sie.getOrSet('k', failing)).toBe('stale but fine');
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    await sleep(600);
    expect(await sie.getOrSet('k', async () => 'recovered')).toBe('recovered');
    // Without a stale value the loader's error is the caller's.
    await expect(sie.getOrSet('other', failing)).rejects.toThrow('database down');
  });

  it('soft timeout: a slow loader returns the stale value within the bound; its late value is stored', async () => {
    const soft = cache({
      namespace: `${t.namespace}:soft`,
      ttl: '1m',
      grace: '1m',
      jitter: 0,
      staleWhileRevalidate: false,
      softTimeout: 150,
    });
    await soft.set('k', 'stale', { ttl: 100 });
    await sleep(200);
    const stored = nextEvent(soft.events, 'stale-served');
    const started = performance.now();
    const value = await soft.getOrSet('k', async () => {
      await sleep(600);
      return 'late';
    });
    const took = performance.now() - started;
    expect(value).toBe('stale');
    expect((await stored).reason).toBe('soft-timeout');
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(500);
    // The late value is stored when the loader ends, about 450 ms from here: wait for the write, not for a guess.
    await eventually(async () => {
      expect(await soft.get('k')).toBe('late');
    });
  });

  it('hard timeout: the loader is aborted and LoaderTimeoutError thrown when there is nothing stale', async () => {
    const hard = cache({ namespace: `${t.namespace}:hard`, hardTimeout: 200 });
    let aborted = false;
    const started = performance.now();
    const error = await hard
      .getOrSet('k', ({ signal }) => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
        return new Promise<string>(() => {});
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoaderTimeoutError);
    expect(aborted).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_000);
    // The lease was released: the next caller loads at once.
    expect(await hard.getOrSet('k', async () => 'ok')).toBe('ok');
  });
});
