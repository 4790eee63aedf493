import {
  Cache,
  type CacheEvents,
  errors,
  type Serializer,
  superjsonSerializer,
  type UnserializableValueError,
} from '@redkit/cache';
import type { RedisConnection } from '@redkit/core';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

declare const redis: RedisConnection;

describe('Cache types', () => {
  it('types values by the schema', () => {
    const users = new Cache({ redis, schema: z.object({ id: z.number(), name: z.string() }) });
    expectTypeOf(users.get('k')).resolves.toEqualTypeOf<{ id: number; name: string } | undefined>();
    expectTypeOf(users.getOrSet('k', async () => ({ id: 1, name: 'a' }))).resolves.toEqualTypeOf<{
      id: number;
      name: string;
    }>();
    // @ts-expect-error the loader must produce the schema's type
    users.getOrSet('k', async () => ({ id: 'one' }));
  });

  it('without a schema values are unknown; wrap keeps the function’s arguments', () => {
    const cache = new Cache({ redis });
    expectTypeOf(cache.get('k')).resolves.toEqualTypeOf<unknown>();
    const wrapped = cache.wrap(
      async (id: number, full: boolean) => ({ id, full }),
      (id) => `k:${id}`,
    );
    expectTypeOf(wrapped).parameters.toEqualTypeOf<[number, boolean]>();
  });

  it('hit and miss carry durationMs; superjsonSerializer makes a Serializer; the new error is in the map', () => {
    expectTypeOf<CacheEvents['hit']['durationMs']>().toEqualTypeOf<number>();
    expectTypeOf<CacheEvents['miss']>().toEqualTypeOf<{ key: string; durationMs: number }>();
    expectTypeOf<CacheEvents['unserializable']>().toEqualTypeOf<{ key: string; error: string }>();
    expectTypeOf(superjsonSerializer).returns.toEqualTypeOf<Serializer>();
    expectTypeOf(errors.UnserializableValueError).toEqualTypeOf<typeof UnserializableValueError>();
    expectTypeOf(new Cache({ redis }).getMany(['a'])).resolves.toEqualTypeOf<unknown[]>();
  });
});
