import type { RedisConnection } from '@redkit/core';
import type { AddResult, Consumer, DeadLetter, MessageContext, StopResult } from '@redkit/queue';
import { StreamQueue } from '@redkit/queue';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

declare const redis: RedisConnection;

describe('StreamQueue types', () => {
  it('types messages by the schema: input on add, output in the handler and dead letters', () => {
    const schema = z.object({ to: z.string(), retries: z.number().default(0) });
    const queue = new StreamQueue({ redis, stream: 's', schema });
    expectTypeOf(queue.add).parameter(0).toEqualTypeOf<{ to: string; retries?: number | undefined }>();
    expectTypeOf(queue.add({ to: 'x' })).resolves.toEqualTypeOf<AddResult>();
    expectTypeOf(queue.addMany([{ to: 'x' }])).resolves.toEqualTypeOf<string[]>();
    // With idempotency keys each message reports whether it was a duplicate.
    expectTypeOf(queue.addMany([{ to: 'x' }], { idempotencyKey: (message) => message.to })).resolves.toEqualTypeOf<
      AddResult[]
    >();
    const consumer = queue.consume(
      (message, context) => {
        expectTypeOf(message).toEqualTypeOf<{ to: string; retries: number }>();
        expectTypeOf(context).toEqualTypeOf<MessageContext>();
      },
      { group: 'g' },
    );
    expectTypeOf(consumer).toEqualTypeOf<Consumer<{ to: string; retries: number }>>();
    expectTypeOf(consumer.stop()).resolves.toEqualTypeOf<StopResult>();
    expectTypeOf(queue.deadLetters.list()).resolves.toEqualTypeOf<DeadLetter<{ to: string; retries: number }>[]>();
    // @ts-expect-error a message missing a required field
    queue.add({ retries: 1 });
    // @ts-expect-error consume needs a group
    queue.consume(() => {}, {});
  });

  it('without a schema, messages are unknown', () => {
    const queue = new StreamQueue({ redis, stream: 's' });
    queue.consume(
      (message) => {
        expectTypeOf(message).toEqualTypeOf<unknown>();
      },
      { group: 'g', backoff: { initial: '1s', max: '1m' }, visibilityTimeout: '30s' },
    );
  });
});
