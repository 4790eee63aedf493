import type { RedisConnection } from '@redkit/core';
import { type Consumer, StreamQueue } from '@redkit/queue';
import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import type { Target, ThroughputScenario, ThroughputVariant } from '../scenario.js';

const messages = 20_000;
const warmup = 2_000;
/** Messages in flight: producers adding at once, and a consumer's handlers (and its read COUNT). */
const concurrency = 50;
/** Entries written per pipeline when a consume run's stream is filled (untimed). */
const fillBatch = 1_000;

/** A small message, as a web app would queue it (about 70 bytes of JSON). */
const schema = z.object({
  id: z.number().int(),
  user: z.string().min(1),
  action: z.enum(['signup', 'login', 'purchase']),
  at: z.number().int(),
});
type Message = z.infer<typeof schema>;

const actions = ['signup', 'login', 'purchase'] as const;
const messageOf = (i: number): Message => ({
  id: i,
  user: `user-${i % 1_000}`,
  action: actions[i % 3] as Message['action'],
  at: 1_700_000_000_000 + i,
});

/** Runs `add(i)` for `count` messages with `concurrency` callers in flight. */
async function closedLoop(count: number, add: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const caller = async () => {
    while (next < count) await add(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, caller));
}

/** Writes `count` entries in the format `StreamQueue.add` writes them (`d` = JSON), a pipeline at a time. */
async function fillStream(redis: RedisConnection, key: string, count: number): Promise<void> {
  for (let first = 0; first < count; first += fillBatch) {
    const pipeline = redis.pipeline();
    for (let i = first; i < Math.min(count, first + fillBatch); i++) {
      pipeline.xadd(key, '*', 'd', JSON.stringify(messageOf(i)));
    }
    await pipeline.exec();
  }
}

/**
 * A connection for BullMQ's Worker, which blocks (BZPOPMIN) and insists on
 * `maxRetriesPerRequest: null`; the run's command timeout would cut its blocking calls short.
 */
function bullConnection(redis: RedisConnection): RedisConnection {
  const overrides = { maxRetriesPerRequest: null, commandTimeout: undefined };
  if ((redis as Cluster).isCluster) {
    const cluster = redis as Cluster;
    return cluster.duplicate([], { redisOptions: { ...cluster.options.redisOptions, ...overrides } });
  }
  return (redis as Redis).duplicate(overrides);
}

/** BullMQ types its connection with its own copy of ioredis; at run time it is the same client. */
const asBull = (redis: RedisConnection) => redis as unknown as ConnectionOptions;

/** Resolves once `count` reaches `target`; `bump` counts one. */
function counter(target: number): { bump: () => void; done: Promise<void> } {
  let count = 0;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    bump: () => {
      if (++count === target) resolve();
    },
    done,
  };
}

/** redkit's consumer as the issue asks for it: retries, dead letters and schema validation on. */
const redkitConsume = {
  group: 'bench',
  concurrency,
  batch: concurrency,
  maxDeliveries: 5,
  backoff: { initial: 1_000, max: 60_000, jitter: 0.5 },
  visibilityTimeout: 30_000,
  blockMs: 1_000,
} as const;

function produceVariants({ redis }: Target): ThroughputVariant[] {
  const rawKey = '{bench-queue-produce}:raw';
  const redkit = new StreamQueue({ redis, namespace: 'bench', stream: 'queue-produce', schema });
  let bull: Queue | undefined;
  return [
    {
      name: 'raw',
      prepare: async () => {},
      run: (count) => closedLoop(count, (i) => redis.xadd(rawKey, '*', 'd', JSON.stringify(messageOf(i)))),
      cleanup: async () => {
        await redis.del(rawKey);
      },
    },
    {
      name: 'redkit',
      prepare: async () => {},
      run: (count) => closedLoop(count, (i) => redkit.add(messageOf(i))),
      cleanup: async () => {
        await redis.del(redkit.keys.stream);
      },
    },
    {
      name: 'bullmq',
      setup: async () => {
        bull = new Queue('produce', { connection: asBull(redis), prefix: '{bench-bull-produce}' });
        await bull.waitUntilReady();
      },
      prepare: async () => {},
      run: (count) => closedLoop(count, (i) => (bull as Queue).add('job', messageOf(i))),
      cleanup: async () => {
        await (bull as Queue).obliterate({ force: true });
      },
      teardown: async () => {
        await bull?.close();
      },
    },
  ];
}

function consumeVariants({ redis }: Target): ThroughputVariant[] {
  const rawKey = '{bench-queue-consume}:raw';
  const redkit = new StreamQueue({ redis, namespace: 'bench', stream: 'queue-consume', schema });
  let consumer: Consumer<Message> | undefined;
  let redkitDone: { bump: () => void; done: Promise<void> } | undefined;
  let redkitOff: () => void = () => {};
  let openGate: () => void = () => {};
  let bullQueue: Queue | undefined;
  let worker: Worker | undefined;
  let workerConnection: RedisConnection | undefined;
  let bullDone: { bump: () => void; done: Promise<void> } | undefined;
  return [
    {
      name: 'raw',
      prepare: async (count) => {
        await fillStream(redis, rawKey, count);
        await redis.xgroup('CREATE', rawKey, 'bench', '0');
      },
      // The practical limit: one loop that reads 50 entries, decodes them, and acks all 50 in one XACK, sent
      // without waiting for its reply right before the next read (one round trip per 50 messages).
      run: async (count) => {
        let done = 0;
        let acked: Promise<unknown> = Promise.resolve();
        while (done < count) {
          const reply = (await redis.xreadgroup(
            'GROUP',
            'bench',
            'raw',
            'COUNT',
            concurrency,
            'STREAMS',
            rawKey,
            '>',
          )) as [string, [string, string[]][]][] | null;
          const entries = reply?.[0]?.[1] ?? [];
          if (entries.length === 0) throw new Error(`raw: stream ran dry after ${done} of ${count}`);
          const ids: string[] = [];
          for (const [id, fields] of entries) {
            JSON.parse(fields[1] as string);
            ids.push(id);
          }
          const previous = acked;
          const ack = redis.xack(rawKey, 'bench', ...ids);
          acked = Promise.all([previous, ack]);
          done += entries.length;
        }
        await acked;
      },
      cleanup: async () => {
        await redis.del(rawKey);
      },
    },
    {
      name: 'redkit',
      // Started before the clock, as BullMQ's Worker is (connected, group joined): its first read of 50 is held
      // at a gate that the timed part opens.
      prepare: async (count) => {
        await fillStream(redis, redkit.keys.stream, count);
        await redis.xgroup('CREATE', redkit.keys.stream, redkitConsume.group, '0');
        let open: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          open = resolve;
        });
        let opened = false;
        redkitDone = counter(count);
        redkitOff = redkit.events.on('processed', redkitDone.bump);
        consumer = redkit.consume(() => (opened ? undefined : gate), redkitConsume);
        openGate = () => {
          opened = true;
          open();
        };
        while (consumer.inFlight < Math.min(concurrency, count)) await new Promise((resolve) => setTimeout(resolve, 1));
      },
      run: async () => {
        openGate();
        await (redkitDone as { done: Promise<void> }).done;
      },
      cleanup: async () => {
        redkitOff();
        const result = await consumer?.stop({ deadlineMs: 10_000 });
        consumer = undefined;
        if (result?.unfinished) throw new Error(`redkit: ${result.unfinished} handlers unfinished`);
        const pending = (await redis.xpending(redkit.keys.stream, redkitConsume.group)) as [number];
        if (pending[0] !== 0) throw new Error(`redkit: ${pending[0]} entries left pending`);
        await redis.del(redkit.keys.stream, redkit.keys.delayed, redkit.keys.delayedData, redkit.keys.dead);
      },
    },
    {
      name: 'bullmq',
      setup: async () => {
        workerConnection = bullConnection(redis);
        bullQueue = new Queue('consume', { connection: asBull(redis), prefix: '{bench-bull-consume}' });
        await bullQueue.waitUntilReady();
      },
      prepare: async (count) => {
        const queue = bullQueue as Queue;
        for (let first = 0; first < count; first += fillBatch) {
          const jobs = [];
          for (let i = first; i < Math.min(count, first + fillBatch); i++) {
            jobs.push({ name: 'job', data: messageOf(i), opts: { removeOnComplete: true } });
          }
          await queue.addBulk(jobs);
        }
        bullDone = counter(count);
        worker = new Worker('consume', async () => {}, {
          connection: asBull(workerConnection as RedisConnection),
          prefix: '{bench-bull-consume}',
          concurrency,
          autorun: false,
        });
        worker.on('completed', (bullDone as { bump: () => void }).bump);
        worker.on('error', () => {});
        await worker.waitUntilReady();
      },
      run: async () => {
        void (worker as Worker).run();
        await (bullDone as { done: Promise<void> }).done;
      },
      cleanup: async () => {
        await worker?.close();
        worker = undefined;
        await (bullQueue as Queue).obliterate({ force: true });
      },
      teardown: async () => {
        await bullQueue?.close();
        workerConnection?.disconnect();
      },
    },
  ];
}

const peers =
  'All variants share one ioredis client for their commands; consumers that block (redkit, BullMQ) get a ' +
  'duplicate of it for their blocking reads, as their docs ask. `bullmq` is BullMQ 5 with a `{hash-tag}` prefix ' +
  '(so it runs on a cluster).';

/** Adding small messages: the producer side of a work queue. */
export const queueProduce: ThroughputScenario = {
  kind: 'throughput',
  name: 'queue-produce',
  title: `queue produce throughput, ${concurrency} producers in flight`,
  description:
    `${messages.toLocaleString('en-US')} small JSON messages (about 70 bytes) added with ${concurrency} calls in ` +
    'flight. `raw` is one `XADD stream * d <json>` per message, each sent on its own as ioredis does without ' +
    "auto-pipelining. `redkit` is @redkit/queue's `StreamQueue.add(message)` with a zod schema: each message is " +
    'validated and encoded, then one XADD; the adds called in the same tick go out together as one pipeline (one ' +
    'socket write, each add still getting its own id or error), which is why it can pass `raw` and costs Redis ' +
    "less per message. `bullmq` is `Queue.add('job', data)` with default job options (one EVALSHA of its add " +
    `script per job). ${peers}`,
  baseline: 'raw',
  messages,
  warmup,
  concurrency,
  variants: produceVariants,
};

/** Draining a stream of small messages with no-op handlers: the consumer side's overhead. */
export const queueConsume: ThroughputScenario = {
  kind: 'throughput',
  name: 'queue-consume',
  title: `queue consume throughput, no-op handlers, concurrency ${concurrency}`,
  description:
    `${messages.toLocaleString('en-US')} small JSON messages, written before the timed part, are consumed by no-op ` +
    "handlers; the time runs from starting the consumer until the last message is acknowledged (redkit's consumer " +
    "and BullMQ's Worker are created, connected and ready before the clock starts, redkit's with its first " +
    'read of 50 held at a gate). `raw` is the ' +
    `practical limit: one loop of \`XREADGROUP … COUNT ${concurrency}\`, \`JSON.parse\` of each entry, and one ` +
    `\`XACK\` with all ${concurrency} ids, sent without waiting for its reply just before the next read (one ` +
    `round trip per ${concurrency} messages). \`redkit\` is @redkit/queue's \`consume\` with concurrency ` +
    `${concurrency}, retries (backoff, \`maxDeliveries: 5\`), dead letters, claims of stuck messages, heartbeats ` +
    'and zod schema validation of every message all on. `bullmq` is a `Worker` with concurrency ' +
    `${concurrency} and a no-op processor (its default lock renewal and stalled-job checks on), its jobs added ` +
    `with \`removeOnComplete: true\`. ${peers}`,
  baseline: 'raw',
  messages,
  warmup,
  concurrency,
  variants: consumeVariants,
};
