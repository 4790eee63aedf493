import { Cache, type CacheEvents, errors, superjsonSerializer, UnserializableValueError } from '@redkit/cache';
import { InvalidOptionsError } from '@redkit/core';
import { describeTopologies } from '@redkit/testing/vitest';
import superjson from 'superjson';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';

describeTopologies('values JSON cannot hold', (t) => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => {
    if ((warning as Error & { code?: string }).code === 'REDKIT_CACHE_UNSERIALIZABLE') warnings.push(warning);
  };
  process.on('warning', onWarning);
  afterEach(() => {
    warnings.length = 0;
  });

  it('set with a BigInt or a circular object throws UnserializableValueError naming the key; nothing is written', async () => {
    const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:set`, ttl: '1m' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const [key, value] of [
      ['big', { n: 10n }],
      ['loop', circular],
    ] as const) {
      const error = await cache.set(key, value).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnserializableValueError);
      expect(error).toBeInstanceOf(errors.UnserializableValueError);
      expect((error as UnserializableValueError).code).toBe('E_CACHE_UNSERIALIZABLE');
      expect((error as UnserializableValueError).key).toBe(key);
      expect((error as Error).message).toContain(JSON.stringify(key));
      expect((error as Error).cause).toBeInstanceOf(TypeError);
      expect(await t.redis.get(`${t.namespace}:set:{${key}}:e`)).toBeNull();
    }
    await cache.close();
  });

  it('getOrSet returns an unserializable value, emits unserializable (not refresh), warns once, and frees the lease', async () => {
    const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:load`, ttl: '1m' });
    const seen: string[] = [];
    const unserializable: CacheEvents['unserializable'][] = [];
    cache.events.on('unserializable', (event) => {
      unserializable.push(event);
      seen.push('unserializable');
    });
    cache.events.on('refresh', () => seen.push('refresh'));
    let loads = 0;
    const loader = async () => {
      loads++;
      return { n: 10n };
    };
    expect(await cache.getOrSet('big', loader)).toEqual({ n: 10n });
    expect(await cache.getOrSet('big', loader)).toEqual({ n: 10n });
    // Never cached, so the source gets every call: the event and the warning say so.
    expect(loads).toBe(2);
    expect(seen).toEqual(['unserializable', 'unserializable']);
    expect(unserializable[0]?.key).toBe('big');
    expect(unserializable[0]?.error).toContain('BigInt');
    // The warning is emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toHaveLength(1);
    expect(await t.redis.exists(`${t.namespace}:load:{big}:lease`, `${t.namespace}:load:{big}:e`)).toBe(0);
    await cache.close();
  });

  it('superjsonSerializer keeps Date, Map, Set and BigInt, and a z.date() schema caches', async () => {
    const namespace = `${t.namespace}:superjson`;
    const serializer = superjsonSerializer(superjson);
    const writer = new Cache({ redis: t.redis, namespace, ttl: '1m', serializer });
    const reader = new Cache({ redis: t.redis, namespace, ttl: '1m', serializer });
    const value = {
      at: new Date('2024-05-06T07:08:09.010Z'),
      map: new Map([['a', 1]]),
      set: new Set(['x']),
      big: 12345678901234567890n,
    };
    await writer.set('v', value);
    expect(await reader.get('v')).toEqual(value);
    const dated = new Cache({
      redis: t.redis,
      namespace: `${namespace}:schema`,
      ttl: '1m',
      serializer,
      schema: z.object({ at: z.date() }),
    });
    let loads = 0;
    const loader = async () => {
      loads++;
      return { at: new Date(0) };
    };
    expect(await dated.getOrSet('d', loader)).toEqual({ at: new Date(0) });
    expect(await dated.getOrSet('d', loader)).toEqual({ at: new Date(0) });
    expect(loads).toBe(1);
    await Promise.all([writer.close(), reader.close(), dated.close()]);
  });

  it('superjsonSerializer refuses what is not superjson', () => {
    expect(() => superjsonSerializer({} as never)).toThrow(InvalidOptionsError);
    expect(() => superjsonSerializer(undefined as never)).toThrow(/superjson/);
  });
});
