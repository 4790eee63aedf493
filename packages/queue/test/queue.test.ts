import { StreamQueue } from '@redkit/queue';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from './helpers.js';

const schema = z.object({ n: z.number().int() });

describeTopologies('stream queue', (t) => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });
  let streams = 0;
  const queue = () => new StreamQueue({ redis: t.redis, namespace: t.namespace, stream: `s${++streams}`, schema });

  it('adds, consumes and acknowledges', async () => {
    const q = queue();
    const first = await q.add({ n: 1 });
    const rest = await q.addMany([{ n: 2 }, { n: 3 }]);
    expect(first.duplicate).toBe(false);
    expect(rest).toHaveLength(2);
    const seen: { n: number; attempt: number; id: string }[] = [];
    const consumer = q.consume(
      (message, context) => {
        seen.push({ n: message.n, attempt: context.attempt, id: context.id });
      },
      { group: 'g', concurrency: 2, blockMs: 100 },
    );
    stops.push(() => consumer.stop());
    await waitFor(() => seen.length === 3, 10_000, 'three messages');
    expect(seen.map((s) => s.n).sort()).toEqual([1, 2, 3]);
    expect(seen.every((s) => s.attempt === 1)).toBe(true);
    expect(seen.map((s) => s.id).sort()).toEqual([first.id, ...rest].sort());
    await waitFor(async () => {
      const [count] = (await t.redis.xpending(q.keys.stream, 'g')) as [number];
      return count === 0;
    });
    expect(await consumer.stop()).toEqual({ finished: 0, unfinished: 0 });
  });
});
