import { RedkitError } from '@redkit/core';
import { StreamQueue } from '@redkit/queue';
import { type ReplicatedRedis, startReplicated } from '@redkit/testing';
import { redisDownContract } from '@redkit/testing/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sleep, waitFor } from './helpers.js';

const schema = z.object({ n: z.number().int() });

/** What the consumer of the Redis-down test saw. */
const down = {
  seen: [] as number[],
  errors: [] as string[],
  consumer: undefined as { stop(): Promise<unknown>; isRunning: boolean } | undefined,
};

redisDownContract({
  title: 'calls fail with RedisUnavailableError within the timeout; the consumer survives and resumes after a restart',
  build: (redis) => new StreamQueue({ redis, stream: 'down', schema, timeout: 300 }),
  before: async (queue) => {
    queue.events.on('error', ({ step }) => down.errors.push(step));
    down.consumer = queue.consume(
      (message) => {
        down.seen.push(message.n);
      },
      { group: 'g', blockMs: 200, promoteInterval: 100, claimInterval: 100 },
    );
    await queue.add({ n: 1 });
    await waitFor(() => down.seen.length === 1, { timeoutMs: 10_000, what: 'the first message' });
  },
  calls: (queue) => [
    () => queue.add({ n: 2 }),
    () => queue.add({ n: 2 }, { idempotencyKey: 'k' }),
    () => queue.addMany([{ n: 3 }]),
    () => queue.deadLetters.list(),
    () => queue.deadLetters.count(),
    () => queue.deadLetters.replay('1-0'),
    () => queue.deadLetters.purge(),
  ],
  whileDown: async (queue) => {
    const health = await queue.health();
    expect(health.healthy).toBe(false);
    expect(health.problems[0]).toMatch(/^Redis did not answer/);
    // The consumer keeps trying in the background and reports it, without unhandled rejections.
    await waitFor(() => down.errors.length > 0, { timeoutMs: 10_000, what: 'a reported error' });
    expect(down.consumer?.isRunning).toBe(true);
  },
  // The restarted server kept nothing (no persistence in the harness): the consumer recreates its group.
  // A timed-out add may have been applied: the idempotency key makes the retry safe.
  recover: (queue) => queue.add({ n: 4 }, { idempotencyKey: 'after-restart' }),
  verify: async () => {
    await waitFor(() => down.seen.includes(4), { timeoutMs: 15_000, what: 'a message after the restart' });
    expect(down.seen).toEqual([1, 4]);
  },
  close: async () => {
    await down.consumer?.stop();
  },
});

describe.each(['sentinel', 'cluster'] as const)('a master failover in the middle of consuming (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('every message added is processed at least once and none is left pending', async () => {
    let total = 0;
    let producing = true;
    const producer = new StreamQueue({ redis: deployment.client(), stream: 'fo', schema, timeout: 1_000 });
    const processed = new Map<number, number>();
    const consumers = [1, 2].map((index) => {
      const queue = new StreamQueue({ redis: deployment.client(), stream: 'fo', schema, timeout: 1_000 });
      return queue.consume(
        (message) => {
          processed.set(message.n, (processed.get(message.n) ?? 0) + 1);
        },
        {
          group: 'g',
          consumer: `c${index}`,
          concurrency: 10,
          blockMs: 100,
          visibilityTimeout: 1_500,
          claimInterval: 200,
          promoteInterval: 100,
        },
      );
    });
    await Promise.all(consumers.map((consumer) => consumer.ready));
    // The producer retries each add with its idempotency key until it is acknowledged: never added twice.
    const produce = (async () => {
      for (let n = 0; producing; n++) {
        for (;;) {
          try {
            await producer.add({ n }, { idempotencyKey: `m${n}` });
            break;
          } catch (error) {
            expect(error).toBeInstanceOf(RedkitError);
            await sleep(50);
          }
        }
        total = n + 1;
        if (n % 5 === 0) await sleep(5);
      }
    })();
    await sleep(300);
    const master = await deployment.masterOf(producer.keys.stream);
    const before = total;
    await deployment.failover(master, { mode: 'manual' });
    // The run spans the failover: messages were added before and after it.
    await waitFor(() => total > before + 20, { timeoutMs: 15_000, what: 'messages added after the failover' });
    producing = false;
    await produce;
    expect(before).toBeGreaterThan(20);
    await waitFor(() => processed.size === total, { timeoutMs: 60_000, what: `${total} messages` });
    const pendingDrained = async () => {
      const [pending] = (await producer.driver.command<[number]>('XPENDING', [producer.keys.stream, 'g'])) ?? [1];
      return pending === 0;
    };
    await waitFor(pendingDrained, { timeoutMs: 30_000, what: 'no pending entry' });
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    expect([...processed.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, n) => n));
    expect(await producer.driver.command<number>('XLEN', [producer.keys.stream])).toBe(total);
  }, 120_000);

  it('10,000 messages, 3 workers, one killed mid-batch and a master failover: all processed, none pending, duplicates only from the kill', async () => {
    const total = 10_000;
    const stream = 'acceptance';
    const producer = new StreamQueue({ redis: deployment.client(), stream, schema, timeout: 1_000 });
    const processed = new Map<number, number>();
    const idToN = new Map<string, number>();
    const touchedByDoomed = new Set<number>();
    const heldByDoomed = new Set<number>();
    const leftPending = new Set<string>();
    let killed = false;
    const clients = [0, 1, 2].map(() => deployment.client());
    const workers = clients.map((redis, index) => {
      const queue = new StreamQueue({ redis, stream, schema, timeout: 1_000 });
      queue.events.on('error', ({ ids }) => {
        for (const id of ids ?? []) leftPending.add(id);
      });
      return queue.consume(
        async (message, context) => {
          idToN.set(context.id, message.n);
          if (index === 0) {
            touchedByDoomed.add(message.n);
            // A dead process never finishes what it holds.
            if (killed) {
              heldByDoomed.add(message.n);
              return new Promise<void>(() => {});
            }
          }
          processed.set(message.n, (processed.get(message.n) ?? 0) + 1);
        },
        {
          group: 'g',
          consumer: `w${index}`,
          concurrency: 20,
          blockMs: 100,
          visibilityTimeout: 1_500,
          claimInterval: 200,
        },
      );
    });
    await Promise.all(workers.map((worker) => worker.ready));
    let next = 0;
    const produce = async () => {
      while (next < total) {
        const n = next++;
        for (;;) {
          try {
            await producer.add({ n }, { idempotencyKey: `m${n}` });
            break;
          } catch (error) {
            expect(error).toBeInstanceOf(RedkitError);
            await sleep(50);
          }
        }
      }
    };
    const producing = Promise.all(Array.from({ length: 16 }, produce));
    await waitFor(() => processed.size >= 1_500, { timeoutMs: 60_000, what: 'the first 1,500' });
    // Kill worker 0 mid-batch: its connection drops, what it holds is never acknowledged.
    killed = true;
    clients[0]?.disconnect();
    await waitFor(() => processed.size >= 4_000, { timeoutMs: 60_000, what: 'the first 4,000' });
    const producedBeforeFailover = next;
    await deployment.failover(await deployment.masterOf(producer.keys.stream), { mode: 'manual' });
    await producing;
    expect(producedBeforeFailover).toBeLessThan(total);
    await waitFor(() => processed.size === total, { timeoutMs: 60_000, what: `${total} messages` });
    await waitFor(
      async () => {
        const [pending] = await producer.driver.command<[number]>('XPENDING', [producer.keys.stream, 'g']);
        return pending === 0;
      },
      { timeoutMs: 30_000, what: 'no pending entry' },
    );
    await Promise.all([workers[1]?.stop(), workers[2]?.stop(), workers[0]?.stop({ deadlineMs: 0 })]);
    expect(await producer.driver.command<number>('XLEN', [producer.keys.stream])).toBe(total);
    const explained = new Set([...touchedByDoomed, ...[...leftPending].map((id) => idToN.get(id))]);
    const duplicates = [...processed].filter(([, count]) => count > 1).map(([n]) => n);
    expect(duplicates.filter((n) => !explained.has(n))).toEqual([]);
    // The kill left messages in the dead worker's hands; others claimed and processed each of them.
    expect(heldByDoomed.size).toBeGreaterThan(0);
    for (const n of heldByDoomed) expect(processed.get(n)).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
