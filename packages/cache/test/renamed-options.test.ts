import { Cache } from '@redkit/cache';
import { InvalidOptionsError } from '@redkit/core';
import { keysOf } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';

/**
 * `memory` (was `l1`) and `copies` (was `replicas`: copies of a key, not Redis
 * replicas) give each term one meaning; the old names keep working.
 */
describeTopologies('renamed cache options', (t) => {
  it('memory keeps values in memory, as l1 did', async () => {
    for (const [option, settings] of [
      ['memory', { memory: { maxEntries: 100 } }],
      ['l1', { l1: { maxEntries: 100 } }],
    ] as const) {
      const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:${option}`, ttl: '1m', ...settings });
      await cache.ready();
      await cache.set('k', 'v');
      const tiers: string[] = [];
      cache.events.on('hit', ({ tier }) => tiers.push(tier));
      expect(await cache.get('k')).toBe('v');
      expect(tiers).toEqual(['memory']);
      await cache.close();
    }
  });

  it('an old name beside its new one is refused, naming the old one, before anything is written', async () => {
    const namespace = `${t.namespace}:both`;
    const attempts = [
      [{ memory: { maxEntries: 1 }, l1: { maxEntries: 1 } }, 'l1'],
      [{ copies: 2, replicas: 2 }, 'replicas'],
    ] as const;
    for (const [settings, path] of attempts) {
      const error = (() => {
        try {
          new Cache({ redis: t.redis, namespace, ...settings });
        } catch (caught) {
          return caught;
        }
      })() as InvalidOptionsError;
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect(error.issues).toEqual([{ path, message: expect.stringContaining('old name') }]);
    }
    expect(await keysOf(t.redis, namespace)).toEqual([]);
  });

  it('copies cannot be combined with writeBehind, under whichever name was given', () => {
    expect(() => new Cache({ redis: t.redis, namespace: t.namespace, writeBehind: {}, copies: 2 })).toThrow(
      /copies: cannot be combined with writeBehind/,
    );
    expect(() => new Cache({ redis: t.redis, namespace: t.namespace, writeBehind: {}, replicas: 2 })).toThrow(
      /replicas: cannot be combined with writeBehind/,
    );
  });
});
