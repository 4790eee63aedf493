import { Cache } from '@redkit/cache';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { sleep } from './helpers.js';

describeTopologies('a delete during a long load', (t) => {
  it.each([
    ['delete', false],
    ['writeBehindDelete', true],
  ] as const)(
    '%s is not undone when the load ends after the default tombstone would have expired',
    async (method, writeBehind) => {
      // Defaults: a tombstone used to live hardTimeout + 1 s = 1.1 s; one load may run up to its own hardTimeout.
      const namespace = `${t.namespace}:${method}`;
      const cache = new Cache({
        redis: t.redis,
        namespace,
        ttl: '1m',
        hardTimeout: 100,
        ...(writeBehind ? { writeBehind: { partitions: 1 } } : {}),
      });
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
      if (writeBehind) await cache.writeBehindDelete('k');
      else await cache.delete('k');
      // The scenario is time itself: the old tombstone's whole lifetime passes while the load runs.
      await sleep(1_300);
      release('old');
      expect(await load).toBe('old');
      expect(await cache.get('k')).toBeUndefined();
      // Whatever is stored under the namespace for k is a tombstone or nothing: never the old value.
      expect(await cache.has('k')).toBe(false);
      await cache.close();
    },
  );
});
