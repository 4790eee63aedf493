import { Cache } from '@redkit/cache';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { sleep } from './helpers.js';

describeTopologies('a delete during a long load', (t) => {
  it('is not undone when the load ends after the delete’s default tombstone would have expired', async () => {
    // Defaults: a tombstone used to live hardTimeout + 1 s = 1.1 s; one load may run up to its own hardTimeout.
    const cache = new Cache({ redis: t.redis, namespace: t.namespace, ttl: '1m', hardTimeout: 100 });
    let started!: () => void;
    const loading = new Promise<void>((resolve) => {
      started = resolve;
    });
    let release!: (value: string) => void;
    const source = new Promise<string>((resolve) => {
      release = resolve;
    });
    const load = cache.getOrSet(
      'k',
      () => {
        started();
        return source;
      },
      { hardTimeout: '10s' },
    );
    await loading;
    // The load read the source before this delete; what it returns is the old value.
    await cache.delete('k');
    // The scenario is time itself: the old tombstone's whole lifetime passes while the load runs.
    await sleep(1_300);
    release('old');
    expect(await load).toBe('old');
    expect(await cache.get('k')).toBeUndefined();
    const raw = await t.redis.get(`${t.namespace}:{k}:e`);
    expect(raw === null || raw.split('|')[1] === 'd').toBe(true);
    await cache.close();
  });
});
