import { Semaphore } from '@redkit/lock';
import { StreamQueue } from '@redkit/queue';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { sleep, waitFor } from './helpers.js';

const schema = z.object({ n: z.number().int() });

describeTopologies('throttling with a semaphore', (t) => {
  it('a semaphore of 2 and 8 workers: never more than 2 at the resource, no message lost, throttles are not attempts', async () => {
    const total = 120;
    const semaphore = new Semaphore({ redis: t.redis, namespace: `${t.namespace}:sem`, limit: 2, ttl: '30s' });
    const producer = new StreamQueue({ redis: t.redis, namespace: t.namespace, stream: 'db-work', schema });
    await producer.addMany(Array.from({ length: total }, (_, n) => ({ n })));
    let atResource = 0;
    let most = 0;
    let throttles = 0;
    const processed = new Map<number, number>();
    const attempts: number[] = [];
    const workers = Array.from({ length: 8 }, (_, index) => {
      const queue = new StreamQueue({ redis: t.client(), namespace: t.namespace, stream: 'db-work', schema });
      queue.events.on('throttled', () => throttles++);
      return queue.consume(
        async (message, context) => {
          atResource++;
          most = Math.max(most, atResource);
          await sleep(5);
          atResource--;
          processed.set(message.n, (processed.get(message.n) ?? 0) + 1);
          attempts.push(context.attempt);
        },
        {
          group: 'g',
          consumer: `w${index}`,
          blockMs: 50,
          maxDeliveries: 1,
          promoteInterval: 20,
          throttle: { semaphore, resource: 'orders-db', backoff: { initial: 5, max: 50 } },
        },
      );
    });
    await waitFor(() => processed.size === total, { timeoutMs: 60_000, what: `${total} messages` });
    await Promise.all(workers.map((worker) => worker.stop()));
    await semaphore.close();
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBe(2);
    // The workers were held back, and held-back deliveries did not use up attempts (maxDeliveries is 1).
    expect(throttles).toBeGreaterThan(0);
    expect(new Set(attempts)).toEqual(new Set([1]));
    expect([...processed.values()].every((count) => count === 1)).toBe(true);
    expect(await producer.deadLetters.count()).toBe(0);
    const stats = await producer.stats();
    expect(stats.delayed).toBe(0);
    expect(stats.groups).toMatchObject([{ name: 'g', pending: 0 }]);
  }, 90_000);
});
