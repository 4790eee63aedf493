import { StreamQueue } from '@redkit/queue';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from './helpers.js';

const schema = z.object({ n: z.number().int() });

describeTopologies('group-aware trim', (t) => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });
  let streams = 0;
  const queue = () => new StreamQueue({ redis: t.redis, namespace: t.namespace, stream: `t${++streams}`, schema });
  const ids = async (q: StreamQueue<typeof schema>) =>
    ((await t.redis.xrange(q.keys.stream, '-', '+')) as [string, string[]][]).map(([id]) => id);

  it('never drops an entry a group has pending or not yet read', async () => {
    const q = queue();
    const added = await q.addMany(Array.from({ length: 100 }, (_, n) => ({ n })));
    // Group "fast" processes everything.
    let fastDone = 0;
    const fast = q.consume(
      () => {
        fastDone++;
      },
      { group: 'fast', concurrency: 10, blockMs: 50 },
    );
    // Group "slow" reads 5 and hangs on them: they stay pending, the other 95 are unread.
    const release: (() => void)[] = [];
    const slow = q.consume(() => new Promise<void>((resolve) => release.push(resolve)), {
      group: 'slow',
      concurrency: 5,
      blockMs: 50,
    });
    stops.push(
      () => fast.stop(),
      async () => {
        for (const resolve of release) resolve();
        await slow.stop();
      },
    );
    await waitFor(() => fastDone === 100 && release.length === 5, 10_000, 'both groups to start');
    expect(await q.trim({ maxLen: 0 })).toBe(0);
    expect(await ids(q)).toEqual(added);

    // Once "slow" acknowledged its first 5, those (and only those) may go.
    for (const resolve of release.splice(0, 5)) resolve();
    await waitFor(() => release.length === 5, 10_000, 'the next five');
    const pending = ((await t.redis.xpending(q.keys.stream, 'slow', '-', '+', 10)) as [string][]).map(([id]) => id);
    expect(pending).toEqual(added.slice(5, 10));
    expect(await q.trim({ maxLen: 0 })).toBe(5);
    expect(await ids(q)).toEqual(added.slice(5));

    // A bound that would drop pending entries is held back to the oldest pending one.
    expect(await q.trim({ maxLen: 93 })).toBe(0);
    for (const resolve of release.splice(0, 5)) resolve();
    await waitFor(() => release.length === 5, 10_000, 'the third five');
    // Now the groups allow up to entry 10, so the bound (keep 93: drop 5 and 6) is what limits.
    expect(await q.trim({ maxLen: 93 })).toBe(2);
    expect(await ids(q)).toEqual(added.slice(7));
    expect(await q.trim({ maxLen: 95, maxAge: '1h', minId: added[0] as string })).toBe(0);
  });

  it('trims everything acknowledged by every group, and by age', async () => {
    const q = queue();
    const added = await q.addMany(Array.from({ length: 20 }, (_, n) => ({ n })));
    let done = 0;
    const consumer = q.consume(
      () => {
        done++;
      },
      { group: 'g', concurrency: 5, blockMs: 50 },
    );
    stops.push(() => consumer.stop());
    await waitFor(async () => done === 20 && ((await t.redis.xpending(q.keys.stream, 'g')) as [number])[0] === 0);
    // Nothing is older than an hour.
    expect(await q.trim({ maxAge: '1h' })).toBe(0);
    expect(await q.trim({ maxAge: 0 })).toBe(20);
    expect(await ids(q)).toEqual([]);
    expect(added).toHaveLength(20);
    // Without a stream, nothing happens.
    const empty = queue();
    expect(await empty.trim({ maxLen: 0 })).toBe(0);
  });
});
