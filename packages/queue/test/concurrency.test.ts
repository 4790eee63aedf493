import { StreamQueue } from '@redkit/queue';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { sleep, waitFor } from './helpers.js';

const schema = z.object({ n: z.number().int() });

describeTopologies('many consumers at once', (t) => {
  it('2,000 messages, 3 consumers on separate connections: each processed exactly once, none left pending', async () => {
    const total = 2_000;
    const producer = new StreamQueue({ redis: t.redis, namespace: t.namespace, stream: 'work', schema });
    const processed = new Map<number, string[]>();
    const consumers = ['c1', 'c2', 'c3'].map((name) => {
      const queue = new StreamQueue({ redis: t.client(), namespace: t.namespace, stream: 'work', schema });
      return queue.consume(
        async (message) => {
          // Yields, so the consumers' handlers interleave with their reads.
          await sleep(Math.random() < 0.1 ? 2 : 0);
          processed.set(message.n, [...(processed.get(message.n) ?? []), name]);
        },
        { group: 'workers', consumer: name, concurrency: 20, batch: 10, blockMs: 100 },
      );
    });
    await Promise.all(consumers.map((consumer) => consumer.ready));
    // Produced while they consume: in chunks through addMany, and one by one.
    const adds: Promise<unknown>[] = [];
    for (let n = 0; n < total; n += 100) {
      const chunk = Array.from({ length: 50 }, (_, i) => ({ n: n + i }));
      adds.push(producer.addMany(chunk));
      for (let i = 50; i < 100; i++) adds.push(producer.add({ n: n + i }));
    }
    await Promise.all(adds);
    await waitFor(() => processed.size === total, { timeoutMs: 30_000, what: `${total} messages` });
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    const duplicates = [...processed.values()].filter((names) => names.length > 1);
    expect(duplicates).toEqual([]);
    expect([...processed.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, n) => n));
    // Work was shared.
    const perConsumer = new Map<string, number>();
    for (const [name] of processed.values())
      perConsumer.set(name as string, (perConsumer.get(name as string) ?? 0) + 1);
    expect(perConsumer.size).toBe(3);
    const [pending] = (await t.redis.xpending(producer.keys.stream, 'workers')) as [number];
    expect(pending).toBe(0);
    expect(await producer.deadLetters.count()).toBe(0);
  }, 60_000);
});
