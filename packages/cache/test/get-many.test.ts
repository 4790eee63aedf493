import { Cache } from '@redkit/cache';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';

describeTopologies('getMany and getOrSetMany return dense arrays', (t) => {
  it('a miss is an undefined element that forEach visits and `in` finds, not a hole', async () => {
    for (const l1 of [undefined, { maxEntries: 100 }]) {
      const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:${l1 ? 'l1' : 'plain'}`, ttl: '1m', l1 });
      await cache.ready();
      await cache.set('b', 'B');
      const values = await cache.getMany(['a', 'b', 'c']);
      const visited: number[] = [];
      values.forEach((_, index) => {
        visited.push(index);
      });
      expect(visited).toEqual([0, 1, 2]);
      expect([0 in values, 1 in values, 2 in values]).toEqual([true, true, true]);
      expect(values[1]).toBe('B');
      const loaded = await cache.getOrSetMany(['a', 'b', 'x'], async () => new Map([['a', 'A']]));
      expect(Object.keys(loaded)).toEqual(['0', '1', '2']);
      expect(loaded).toEqual(['A', 'B', undefined]);
      await cache.close();
    }
  });
});
