import { InvalidOptionsError, keySlot, type RedisConnection, RedisUnavailableError } from '@redkit/core';
import { type BullmqEvents, defineJob, TypedQueue, TypedWorker } from '@redkit/queue/bullmq';
import { connectWith, type ReplicatedRedis, startReplicated } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keysOf, sleep, waitFor } from './helpers.js';

const jobs = {
  'send-email': defineJob({
    data: z.object({ to: z.email(), subject: z.string().min(1) }),
    result: z.object({ id: z.string() }),
  }),
  resize: defineJob({ data: z.object({ width: z.number().int().positive() }) }),
};

/** Records a worker's events by type. */
function record(worker: TypedWorker<typeof jobs>) {
  const events: { [Type in keyof BullmqEvents]: BullmqEvents[Type][] } = {
    added: [],
    invalid: [],
    completed: [],
    failed: [],
    error: [],
  };
  for (const type of Object.keys(events) as (keyof BullmqEvents)[]) {
    worker.events.on(type, (payload) => (events[type] as unknown[]).push(payload));
  }
  return events;
}

describeTopologies('BullMQ typed jobs', (t) => {
  it('typed jobs of two kinds run on a real Worker; results are checked and stored; every key shares the queue hash tag', async () => {
    const queue = new TypedQueue({ redis: t.redis, namespace: t.namespace, name: 'mail', jobs });
    expect(queue.prefix).toBe(`${t.namespace}:{mail}`);
    const seen: string[] = [];
    const worker = new TypedWorker({
      redis: t.redis,
      namespace: t.namespace,
      name: 'mail',
      jobs,
      concurrency: 4,
      handlers: {
        'send-email': async (data) => {
          seen.push(data.to);
          return { id: `msg-${data.to}` };
        },
        resize: (data) => {
          seen.push(`w${data.width}`);
        },
      },
    });
    const events = record(worker);
    try {
      const added = [
        await queue.add('send-email', { to: 'ada@example.com', subject: 'hi' }),
        await queue.add('resize', { width: 640 }),
        ...(await queue.addBulk([
          { name: 'send-email', data: { to: 'bob@example.com', subject: 'yo' } },
          { name: 'resize', data: { width: 32 }, opts: { priority: 1 } },
        ])),
      ];
      await waitFor(() => events.completed.length === 4, { timeoutMs: 15_000, what: '4 completed jobs' });
      expect(seen.sort()).toEqual(['ada@example.com', 'bob@example.com', 'w32', 'w640']);
      const stored = await Promise.all(added.map((job) => queue.bullmq.getJob(job.id as string)));
      expect(stored.map((job) => job?.returnvalue)).toEqual([
        { id: 'msg-ada@example.com' },
        null,
        { id: 'msg-bob@example.com' },
        null,
      ]);
      expect(events.failed).toEqual([]);
      expect(events.invalid).toEqual([]);
      const keys = await keysOf(t.redis, t.namespace);
      expect(keys.length).toBeGreaterThan(0);
      expect(new Set(keys.map((key) => keySlot(key)))).toEqual(new Set([keySlot(`${t.namespace}:{mail}`)]));
    } finally {
      await worker.close();
      await queue.close();
    }
    // The caller's client is shared, not closed.
    expect(await t.redis.ping()).toBe('PONG');
  });

  it('invalid job data is rejected on add, naming the field, before anything reaches Redis', async () => {
    const queue = new TypedQueue({ redis: t.redis, namespace: `${t.namespace}:bad`, name: 'mail', jobs });
    try {
      const error = await queue.add('send-email', { to: 'not-an-email', subject: 'x' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toMatch(/data\.to/);
      // @ts-expect-error width must be a number
      await expect(queue.add('resize', { width: '10' })).rejects.toThrow(/data\.width/);
      // @ts-expect-error not a job of this queue
      await expect(queue.add('unknown', {})).rejects.toThrow(/name: is not a job of this queue/);
      await expect(
        queue.addBulk([
          { name: 'resize', data: { width: 1 } },
          { name: 'resize', data: { width: -1 } },
        ]),
      ).rejects.toThrow(/jobs\.1\.data\.width/);
      // BullMQ writes its own meta hash (library version, options) once a Queue connects, whatever is
      // added; no job, id counter or event may exist.
      const keys = await keysOf(t.redis, `${t.namespace}:bad`);
      expect(keys.filter((key) => !key.endsWith(':meta'))).toEqual([]);
    } finally {
      await queue.close();
    }
  });

  it('data that fails the schema in the worker, and a result that fails it, fail the job without retries; a thrown error is retried', async () => {
    const queue = new TypedQueue({ redis: t.redis, namespace: t.namespace, name: 'checks', jobs });
    let calls = 0;
    let flaky = 0;
    const worker = new TypedWorker({
      redis: t.redis,
      namespace: t.namespace,
      name: 'checks',
      jobs,
      handlers: {
        'send-email': (data) => {
          calls++;
          // A handler that breaks its contract.
          return (data.subject === 'bad result' ? { id: 42 } : { id: 'ok' }) as never;
        },
        resize: () => {
          calls++;
          if (flaky++ === 0) throw new Error('transient');
        },
      },
    });
    const events = record(worker);
    try {
      // Bypasses the typed add, as another producer might.
      const raw = await queue.bullmq.add('send-email', { to: 42 }, { attempts: 3 });
      const badResult = await queue.add('send-email', { to: 'c@example.com', subject: 'bad result' }, { attempts: 3 });
      const retried = await queue.add('resize', { width: 5 }, { attempts: 2 });
      await waitFor(() => events.invalid.length === 2 && events.completed.length === 1, {
        timeoutMs: 15_000,
        what: 'the checks',
      });
      expect(events.invalid.map(({ jobId, stage }) => [jobId, stage]).sort()).toEqual(
        [
          [raw.id, 'data'],
          [badResult.id, 'result'],
        ].sort(),
      );
      expect(events.invalid.find((event) => event.stage === 'data')?.error).toMatch(/data\.to/);
      expect(events.invalid.find((event) => event.stage === 'result')?.error).toMatch(/result\.id/);
      // The invalid data never reached a handler; nothing invalid was retried.
      expect(calls).toBe(3);
      for (const id of [raw.id, badResult.id]) {
        const job = await queue.bullmq.getJob(id as string);
        expect(await job?.getState()).toBe('failed');
        expect(job?.attemptsMade).toBe(1);
      }
      expect(events.failed).toEqual([
        { queue: 'checks', name: 'resize', jobId: retried.id, attempt: 1, error: 'transient', willRetry: true },
      ]);
      expect(events.completed[0]).toMatchObject({ name: 'resize', jobId: retried.id, attempt: 2 });
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('two workers on separate clients process every one of many jobs exactly once', async () => {
    const queue = new TypedQueue({ redis: t.redis, namespace: t.namespace, name: 'many', jobs });
    const runs = new Map<number, number>();
    const workers = [0, 1].map(
      () =>
        new TypedWorker({
          redis: t.client(),
          namespace: t.namespace,
          name: 'many',
          jobs,
          concurrency: 5,
          handlers: {
            'send-email': () => ({ id: 'unused' }),
            resize: async ({ width }) => {
              runs.set(width, (runs.get(width) ?? 0) + 1);
            },
          },
        }),
    );
    try {
      const total = 60;
      await queue.addBulk(
        Array.from({ length: total }, (_, index) => ({ name: 'resize' as const, data: { width: index + 1 } })),
      );
      await waitFor(() => runs.size === total, { timeoutMs: 15_000, what: `${total} jobs` });
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      expect(await queue.bullmq.getJobCounts('completed', 'failed', 'active', 'wait')).toEqual({
        completed: total,
        failed: 0,
        active: 0,
        wait: 0,
      });
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
      await queue.close();
    }
  });

  it('works with ioredis 5 clients too', async () => {
    const client = connectWith({ Redis: Redis5, Cluster: Cluster5 }, t.url) as unknown as RedisConnection;
    const queue = new TypedQueue({ redis: client, namespace: t.namespace, name: 'v5', jobs });
    const worker = new TypedWorker({
      redis: client,
      namespace: t.namespace,
      name: 'v5',
      jobs,
      handlers: { 'send-email': (data) => ({ id: data.subject }), resize: () => {} },
    });
    const events = record(worker);
    try {
      const job = await queue.add('send-email', { to: 'v5@example.com', subject: 'five' });
      await waitFor(() => events.completed.length === 1, { timeoutMs: 15_000, what: 'the job' });
      expect((await queue.bullmq.getJob(job.id as string))?.returnvalue).toEqual({ id: 'five' });
    } finally {
      await worker.close();
      await queue.close();
      client.disconnect();
    }
  });
});

describe('BullMQ typed jobs when Redis is unreachable', () => {
  it('add fails with RedisUnavailableError within the timeout, and the queue closes', async () => {
    const redis = new Redis5({ port: 1, lazyConnect: true, retryStrategy: () => 50 }) as unknown as RedisConnection;
    redis.on('error', () => {});
    const queue = new TypedQueue({ redis, name: 'down', jobs, timeout: 300 });
    try {
      const started = performance.now();
      await expect(queue.add('resize', { width: 1 })).rejects.toBeInstanceOf(RedisUnavailableError);
      // Bounded: the timeout plus scheduling slack, never a hang.
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      await queue.close().catch(() => {});
      redis.disconnect();
    }
  });
});

describe('BullMQ typed jobs: options', () => {
  const redis = new Redis5({ lazyConnect: true }) as unknown as RedisConnection;
  const handlers = { 'send-email': () => ({ id: 'x' }), resize: () => {} };

  it.each([
    [{ name: 'a:b' }, 'name'],
    [{ name: '{a}' }, 'name'],
    [{ name: 'q', namespace: 'bad ns' }, 'namespace'],
    [{ name: 'q', jobs: {} }, 'jobs'],
    [{ name: 'q', jobs: { a: { data: 'nope' } } }, 'jobs.a.data'],
    [{ name: 'q', timeout: 0 }, 'timeout'],
    [{ name: 'q', extra: true }, 'extra'],
  ])('TypedQueue %o → InvalidOptionsError naming %s', (input, field) => {
    expect(() => new TypedQueue({ redis, jobs, ...(input as { name: string }) })).toThrow(InvalidOptionsError);
    expect(() => new TypedQueue({ redis, jobs, ...(input as { name: string }) })).toThrow(field);
  });

  it.each([
    [{ handlers: { resize: () => {} } }, 'handlers.send-email: is missing'],
    [{ handlers: { ...handlers, other: () => {} } }, 'handlers.other'],
    [{ handlers: { ...handlers, resize: 'no' } }, 'handlers.resize'],
    [{ handlers, concurrency: 0 }, 'concurrency'],
    [{ handlers, redis: {} }, 'redis'],
  ])('TypedWorker %o → InvalidOptionsError naming %s', (input, field) => {
    const create = () => new TypedWorker({ redis, name: 'q', jobs, ...(input as { handlers: typeof handlers }) });
    expect(create).toThrow(InvalidOptionsError);
    expect(create).toThrow(field);
  });

  it('cleans up the lazy client', () => {
    redis.disconnect();
  });
});

describe.each(['sentinel', 'cluster'] as const)('BullMQ typed jobs across a master failover (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('jobs added before and during a planned failover of the queue master all complete, each once', async () => {
    const queue = new TypedQueue({ redis: deployment.client(), name: 'fo', jobs, timeout: 2_000 });
    const done = new Set<number>();
    const runs = new Map<number, number>();
    const worker = new TypedWorker({
      redis: deployment.client(),
      name: 'fo',
      jobs,
      concurrency: 5,
      handlers: {
        'send-email': () => ({ id: 'unused' }),
        resize: ({ width }) => {
          runs.set(width, (runs.get(width) ?? 0) + 1);
          done.add(width);
        },
      },
    });
    // A producer retries an add whose outcome is unknown; the jobId makes it idempotent.
    const add = async (width: number) => {
      for (;;) {
        try {
          await queue.add('resize', { width }, { jobId: `w${width}` });
          return;
        } catch {
          await sleep(100);
        }
      }
    };
    try {
      for (let width = 1; width <= 20; width++) await add(width);
      await waitFor(() => done.size === 20, { timeoutMs: 15_000, what: 'the jobs before the failover' });
      const master = await deployment.masterOf(`${queue.prefix}:fo:wait`);
      // Adds and processing go on while the master hands over.
      const producing = (async () => {
        for (let width = 21; width <= 40; width++) await add(width);
      })();
      await deployment.failover(master, { mode: 'manual' });
      await producing;
      await waitFor(() => done.size === 40, { timeoutMs: 30_000, what: 'the jobs after the failover' });
      expect(await queue.bullmq.getJobCounts('completed', 'failed')).toEqual({ completed: 40, failed: 0 });
      // A planned failover loses no acknowledged write, so no job ran twice.
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await worker.close();
      await queue.close();
    }
  }, 60_000);
});
