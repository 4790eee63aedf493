import type { RedisConnection } from '@redkit/core';
import type { Session, SessionInfo, UpdateResult } from '@redkit/session';
import { SessionStore } from '@redkit/session';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

declare const redis: RedisConnection;

describe('SessionStore types', () => {
  it('types data by the schema: input on create, output on read, partial on update', () => {
    const schema = z.object({ name: z.string(), cart: z.array(z.string()).default([]) });
    const store = new SessionStore({ redis, schema });
    expectTypeOf(store.create).parameter(1).toEqualTypeOf<{ name: string; cart?: string[] | undefined }>();
    expectTypeOf(store.get('id')).resolves.toEqualTypeOf<Session<{ name: string; cart: string[] }> | null>();
    expectTypeOf(store.update).parameter(1).toMatchTypeOf<{ name?: string; cart?: string[] }>();
    expectTypeOf(store.update('id', { name: 'x' })).resolves.toEqualTypeOf<UpdateResult>();
    expectTypeOf(store.rotate('id')).resolves.toEqualTypeOf<SessionInfo | null>();
    // @ts-expect-error a field the schema does not have
    store.update('id', { nick: 'x' });
  });

  it('without a schema, data is any JSON object', () => {
    const store = new SessionStore({ redis });
    expectTypeOf(store.get('id')).resolves.toEqualTypeOf<Session<Record<string, unknown>> | null>();
    expectTypeOf(store.list('u')).resolves.toEqualTypeOf<SessionInfo[]>();
  });

  it('results are values, not exceptions', () => {
    expectTypeOf<UpdateResult['status']>().toEqualTypeOf<'updated' | 'conflict' | 'missing'>();
  });
});
