import { InvalidSessionDataError, SessionStore, type SessionStoreOptions } from '@redkit/session';
import { badCallsContract, badOptionsContract } from '@redkit/testing/contracts';
import { describeTopologies } from '@redkit/testing/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

describeTopologies('bad input', (t) => {
  const options = (): SessionStoreOptions => ({ redis: t.redis, namespace: t.namespace });

  describe('constructor', () => {
    badOptionsContract([
      ['negative ttl', () => new SessionStore({ ...options(), ttl: -1 }), 'ttl: must not be negative'],
      ['ttl 0', () => new SessionStore({ ...options(), ttl: 0 }), 'ttl'],
      ['ttl not a duration', () => new SessionStore({ ...options(), ttl: 'soon' as never }), 'ttl'],
      ['absoluteTtl below ttl', () => new SessionStore({ ...options(), ttl: '1h', absoluteTtl: '1m' }), 'absoluteTtl'],
      ['schema not an object schema', () => new SessionStore({ ...options(), schema: z.string() as never }), 'schema'],
      ['idBytes too few', () => new SessionStore({ ...options(), idBytes: 8 }), 'idBytes'],
      ['bad namespace', () => new SessionStore({ ...options(), namespace: 'a{b}' }), 'namespace'],
      ['not a client', () => new SessionStore({ ...options(), redis: {} as never }), 'redis: must be an ioredis'],
      ['unknown option', () => new SessionStore({ ...options(), idleTtl: 5 } as never), 'idleTtl'],
    ]);
  });

  describe('calls', () => {
    const schema = z.object({ name: z.string().min(1), age: z.number().int().optional() });
    let typed: SessionStore<typeof schema>;
    let loose: SessionStore;
    let id: string;

    beforeAll(async () => {
      typed = new SessionStore({ ...options(), schema });
      loose = new SessionStore(options());
      id = (await typed.create('someone', { name: 'Some One', age: 30 })).id;
    });

    badCallsContract(
      [
        ['empty user id', () => typed.create('', { name: 'x' }), 'userId: must not be empty'],
        ['user id not a string', () => typed.create(7 as never, { name: 'x' }), 'must be a string'],
        ['data failing the schema', () => typed.create('u', { name: '' }), 'data.name'],
        ['data missing a field', () => typed.create('u', {} as never), 'data.name'],
        ['data not an object', () => loose.create('u', [] as never), 'data: must be a plain object'],
        ['data not JSON', () => loose.create('u', { n: 1n }), 'data.n: is not JSON-serializable'],
        ['a function in data', () => loose.create('u', { f: () => 1 }), 'data.f'],
        ['patch failing the schema', () => typed.update(id, { age: 1.5 }), 'data.age'],
        ['patch deleting a required field', () => typed.update(id, { name: undefined }), 'data.name: is required'],
        ['patch with an unknown field', () => typed.update(id, { nick: 'x' } as never), 'data.nick: is not a field'],
        ['patch not an object', () => typed.update(id, null as never), 'patch'],
        ['version not whole', () => typed.update(id, { age: 3 }, { version: 1.5 }), 'version'],
        ['id not a string', () => typed.get(42 as never), 'id: must be a string'],
        ['unknown get option', () => typed.get(id, { refresh: true } as never), 'refresh'],
        ['put with an empty id', () => loose.put('', {}, { userId: null }), 'id: must not be empty'],
        ['put with an id too long', () => loose.put('x'.repeat(1025), {}, { userId: null }), 'id: must be at most'],
        ['put with a ttl of 0', () => loose.put('abc', {}, { userId: null, ttl: 0 }), 'ttl'],
        ['put without userId', () => loose.put('abcdefghij', {}, {} as never), 'userId'],
        ['list of an empty user', () => typed.list(''), 'userId'],
        ['destroyAll of an empty user', () => typed.destroyAll(''), 'userId'],
      ],
      {
        redis: () => t.redis,
        namespace: t.namespace,
        existing: true,
        unchanged: async () => {
          expect(await typed.get(id)).toMatchObject({ version: 1, data: { name: 'Some One', age: 30 } });
        },
      },
    );

    it('schema failures are InvalidSessionDataError (an InvalidOptionsError)', async () => {
      const error = await typed.create('u', { name: '' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidSessionDataError);
      expect((error as InvalidSessionDataError).code).toBe('E_INVALID_OPTIONS');
      expect((error as InvalidSessionDataError).issues.map((issue) => issue.path)).toEqual(['data.name']);
    });
  });
});
