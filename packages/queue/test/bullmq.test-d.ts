import type { RedisConnection } from '@redkit/core';
import { Channel, ChannelPattern, type ChannelSubscription } from '@redkit/queue';
import { defineJob, type TypedJob, TypedQueue, TypedWorker } from '@redkit/queue/bullmq';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

declare const redis: RedisConnection;

const jobs = {
  email: defineJob({
    data: z.object({ to: z.string(), retries: z.number().default(0) }),
    result: z.object({ id: z.string() }),
  }),
  resize: defineJob({ data: z.object({ width: z.number() }) }),
};

describe('typed BullMQ jobs', () => {
  it('types add by job name: the data schema input, and the job it returns', () => {
    const queue = new TypedQueue({ redis, name: 'q', jobs });
    expectTypeOf(queue.add<'email'>)
      .parameter(1)
      .toEqualTypeOf<{ to: string; retries?: number | undefined }>();
    expectTypeOf(queue.add('email', { to: 'x' })).resolves.toEqualTypeOf<TypedJob<typeof jobs, 'email'>>();
    expectTypeOf<TypedJob<typeof jobs, 'email'>['data']>().toEqualTypeOf<{ to: string; retries: number }>();
    expectTypeOf<TypedJob<typeof jobs, 'email'>['returnvalue']>().toEqualTypeOf<{ id: string }>();
    // @ts-expect-error data of another job
    queue.add('resize', { to: 'x' });
    // @ts-expect-error not a job of the queue
    queue.add('other', {});
    queue.addBulk([
      { name: 'email', data: { to: 'x' } },
      { name: 'resize', data: { width: 1 }, opts: { delay: 10 } },
    ]);
    // @ts-expect-error bulk data must match its job's name
    queue.addBulk([{ name: 'resize', data: { to: 'x' } }]);
  });

  it('types handlers: the data schema output in, the result schema input out; every job needs one', () => {
    new TypedWorker({
      redis,
      name: 'q',
      jobs,
      handlers: {
        email: async (data, job) => {
          expectTypeOf(data).toEqualTypeOf<{ to: string; retries: number }>();
          expectTypeOf(job.name).toEqualTypeOf<'email'>();
          return { id: data.to };
        },
        resize: (data) => {
          expectTypeOf(data).toEqualTypeOf<{ width: number }>();
        },
      },
    });
    new TypedWorker({
      redis,
      name: 'q',
      jobs,
      // @ts-expect-error the result must match the result schema
      handlers: { email: () => ({ id: 1 }), resize: () => {} },
    });
    // @ts-expect-error a handler for every job
    new TypedWorker({ redis, name: 'q', jobs, handlers: { email: () => ({ id: 'x' }) } });
  });
});

describe('typed channels', () => {
  it('types publish by the schema input and handlers by its output', () => {
    const schema = z.object({ id: z.string(), total: z.number().default(0) });
    const channel = new Channel({ redis, name: 'orders', schema });
    expectTypeOf(channel.publish).parameter(0).toEqualTypeOf<{ id: string; total?: number | undefined }>();
    expectTypeOf(channel.publish({ id: 'x' })).resolves.toEqualTypeOf<number>();
    expectTypeOf(
      channel.subscribe((message, context) => {
        expectTypeOf(message).toEqualTypeOf<{ id: string; total: number }>();
        expectTypeOf(context.channel).toEqualTypeOf<string>();
      }),
    ).resolves.toEqualTypeOf<ChannelSubscription>();
    // @ts-expect-error a message missing a required field
    channel.publish({ total: 1 });
    const untyped = new Channel({ redis, name: 'any' });
    untyped.subscribe((message) => {
      expectTypeOf(message).toEqualTypeOf<unknown>();
    });
    new ChannelPattern({ redis, pattern: 'orders.*', schema }).subscribe((message) => {
      expectTypeOf(message).toEqualTypeOf<{ id: string; total: number }>();
    });
  });
});
