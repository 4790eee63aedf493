import { InvalidMessageError, StreamQueue, type StreamQueueOptions } from '@redkit/queue';
import { badCallsContract, badOptionsContract } from '@redkit/testing/contracts';
import { describeTopologies } from '@redkit/testing/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

describeTopologies('bad input', (t) => {
  const options = (): StreamQueueOptions => ({ redis: t.redis, namespace: t.namespace, stream: 'jobs' });
  const schema = z.object({ email: z.string().email(), n: z.number().int().optional() });

  describe('constructor', () => {
    badOptionsContract([
      ['empty stream', () => new StreamQueue({ ...options(), stream: '' }), 'stream: must not be empty'],
      ['stream not a string', () => new StreamQueue({ ...options(), stream: 5 as never }), 'stream: must be a string'],
      ['stream with a newline', () => new StreamQueue({ ...options(), stream: 'a\nb' }), 'stream'],
      ['idempotencyTtl 0', () => new StreamQueue({ ...options(), idempotencyTtl: 0 }), 'idempotencyTtl'],
      [
        'idempotencyTtl not a duration',
        () => new StreamQueue({ ...options(), idempotencyTtl: 'soon' as never }),
        'idempotencyTtl',
      ],
      ['schema not a zod schema', () => new StreamQueue({ ...options(), schema: {} as never }), 'schema'],
      ['bad namespace', () => new StreamQueue({ ...options(), namespace: 'a{b}' }), 'namespace'],
      ['not a client', () => new StreamQueue({ ...options(), redis: {} as never }), 'redis: must be an ioredis'],
      ['unknown option', () => new StreamQueue({ ...options(), maxLen: 5 } as never), 'maxLen'],
      [
        'trim without a bound',
        () => new StreamQueue({ ...options(), trim: { every: 5 } }),
        'trim: give maxLen and/or maxAge',
      ],
      ['trim every 0', () => new StreamQueue({ ...options(), trim: { maxLen: 5, every: 0 } }), 'trim.every'],
      ['trim maxLen -1', () => new StreamQueue({ ...options(), trim: { maxLen: -1 } }), 'trim.maxLen'],
      [
        'trim maxAge not a duration',
        () => new StreamQueue({ ...options(), trim: { maxAge: 'x' as never } }),
        'trim.maxAge',
      ],
      ['trim with minId', () => new StreamQueue({ ...options(), trim: { maxLen: 1, minId: '1-0' } as never }), 'minId'],
    ]);
  });

  describe('calls', () => {
    let typed: StreamQueue<typeof schema>;
    let loose: StreamQueue;
    const handler = () => {};

    beforeAll(async () => {
      typed = new StreamQueue({ ...options(), schema });
      loose = new StreamQueue(options());
      await typed.add({ email: 'a@example.com' });
    });

    badCallsContract(
      [
        ['message failing the schema', () => typed.add({ email: 'nope' }), 'message.email'],
        ['message missing a field', () => typed.add({} as never), 'message.email'],
        ['message not JSON', () => loose.add({ n: 1n }), 'message: is not JSON-serializable'],
        ['message undefined', () => loose.add(undefined), 'message: is not JSON-serializable'],
        ['empty idempotencyKey', () => typed.add({ email: 'a@example.com' }, { idempotencyKey: '' }), 'idempotencyKey'],
        ['unknown add option', () => typed.add({ email: 'a@example.com' }, { jobId: '1-1' } as never), 'jobId'],
        [
          'id not an entry id',
          () => typed.add({ email: 'a@example.com' }, { id: 'abc' }),
          'id: must be a stream entry id',
        ],
        ['id with three parts', () => typed.add({ email: 'a@example.com' }, { id: '1-2-3' }), 'id: must be a stream'],
        ['id 0-0', () => typed.add({ email: 'a@example.com' }, { id: '0-0' }), 'id: must be above 0-0'],
        ['id past 2^64', () => typed.add({ email: 'a@example.com' }, { id: '18446744073709551616-0' }), 'id: must be'],
        ['id not a string', () => typed.add({ email: 'a@example.com' }, { id: 5 as never }), 'id: must be a string'],
        // A well-formed id at or below the stream's last one: Redis refuses it, and nothing is written.
        ['id below the last entry', () => typed.add({ email: 'a@example.com' }, { id: '1-1' }), 'id: was refused'],
        [
          'id below the last entry, with an idempotencyKey',
          () => typed.add({ email: 'a@example.com' }, { id: '1-1', idempotencyKey: 'k' }),
          'id: was refused',
        ],
        [
          'addMany idempotencyKey not a function',
          () => typed.addMany([{ email: 'a@example.com' }], { idempotencyKey: 'k' as never }),
          'idempotencyKey: must be a function',
        ],
        [
          'addMany idempotencyKey giving an empty key',
          () =>
            typed.addMany([{ email: 'a@example.com' }, { email: 'b@example.com' }], {
              idempotencyKey: (_m, i) => (i === 1 ? '' : 'k'),
            }),
          'messages.1: idempotencyKey() must return',
        ],
        [
          'addMany idempotencyKey giving a number',
          () => typed.addMany([{ email: 'a@example.com' }], { idempotencyKey: () => 5 as never }),
          'messages.0: idempotencyKey() must return',
        ],
        [
          'addMany with keys and a bad message',
          () => typed.addMany([{ email: 'a@example.com' }, { email: 'x' }], { idempotencyKey: () => 'k' }),
          'messages.1.email',
        ],
        ['unknown addMany option', () => typed.addMany([], { keys: [] } as never), 'keys'],
        [
          'one bad message in addMany',
          () => typed.addMany([{ email: 'a@example.com' }, { email: 'x', n: 1.5 }]),
          'messages.1.email',
        ],
        ['addMany of a non-array', () => typed.addMany('x' as never), 'messages: must be an array'],
        ['handler not a function', () => typed.consume('x' as never, { group: 'g' }), 'handler: must be a function'],
        ['consume without group', () => typed.consume(handler, {} as never), 'group'],
        ['concurrency 0', () => typed.consume(handler, { group: 'g', concurrency: 0 }), 'concurrency'],
        ['maxDeliveries 1.5', () => typed.consume(handler, { group: 'g', maxDeliveries: 1.5 }), 'maxDeliveries'],
        [
          'backoff max below initial',
          () => typed.consume(handler, { group: 'g', backoff: { initial: '1m', max: '1s' } }),
          'backoff.max',
        ],
        ['jitter above 1', () => typed.consume(handler, { group: 'g', backoff: { jitter: 2 } }), 'backoff.jitter'],
        [
          'visibilityTimeout not a duration',
          () => typed.consume(handler, { group: 'g', visibilityTimeout: 'x' as never }),
          'visibilityTimeout',
        ],
        ['unknown consume option', () => typed.consume(handler, { group: 'g', blocking: true } as never), 'blocking'],
        [
          'throttle without a semaphore',
          () => typed.consume(handler, { group: 'g', throttle: { resource: 'db' } as never }),
          'throttle.semaphore',
        ],
        [
          'throttle with an empty resource',
          () =>
            typed.consume(handler, {
              group: 'g',
              throttle: { semaphore: { tryAcquire: async () => null }, resource: '' },
            }),
          'throttle.resource',
        ],
        ['health with a negative maxLag', () => typed.health({ maxLag: -1 }), 'maxLag'],
        ['list count 0', () => typed.deadLetters.list({ count: 0 }), 'count'],
        ['trim without a bound', () => typed.trim({}), 'give at least one of maxLen, maxAge, minId'],
        ['trim with a negative maxLen', () => typed.trim({ maxLen: -1 }), 'maxLen'],
        ['trim with a bad minId', () => typed.trim({ minId: 'x' }), 'minId'],
        ['get of a bad id', () => typed.deadLetters.get(5 as never), 'id: must be a stream entry id'],
        ['replay of a bad id', () => typed.deadLetters.replay('abc'), 'id: must be a stream entry id'],
      ],
      {
        redis: () => t.redis,
        namespace: t.namespace,
        existing: true,
        unchanged: async () => {
          // … and one entry in the stream.
          expect(await t.redis.xlen(typed.keys.stream)).toBe(1);
          expect(await t.redis.xinfo('GROUPS', typed.keys.stream)).toEqual([]);
        },
      },
    );

    it('schema failures are InvalidMessageError (an InvalidOptionsError)', async () => {
      const error = await typed.add({ email: 'nope' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidMessageError);
      expect((error as InvalidMessageError).code).toBe('E_INVALID_OPTIONS');
      expect((error as InvalidMessageError).issues.map((issue) => issue.path)).toEqual(['message.email']);
    });
  });
});
