import { StreamQueue } from '@redkit/queue';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { sleep, waitFor } from './helpers.js';

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
    await waitFor(() => fastDone === 100 && release.length === 5, { timeoutMs: 10_000, what: 'both groups to start' });
    expect(await q.trim({ maxLen: 0 })).toBe(0);
    expect(await ids(q)).toEqual(added);

    // Once "slow" acknowledged its first 5, those (and only those) may go.
    for (const resolve of release.splice(0, 5)) resolve();
    await waitFor(() => release.length === 5, { timeoutMs: 10_000, what: 'the next five' });
    const pending = ((await t.redis.xpending(q.keys.stream, 'slow', '-', '+', 10)) as [string][]).map(([id]) => id);
    expect(pending).toEqual(added.slice(5, 10));
    expect(await q.trim({ maxLen: 0 })).toBe(5);
    expect(await ids(q)).toEqual(added.slice(5));

    // A bound that would drop pending entries is held back to the oldest pending one.
    expect(await q.trim({ maxLen: 93 })).toBe(0);
    for (const resolve of release.splice(0, 5)) resolve();
    await waitFor(() => release.length === 5, { timeoutMs: 10_000, what: 'the third five' });
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

  /** Every entry some group still needs (pending, or not yet delivered) is in the stream. */
  async function assertNothingNeededWasTrimmed(q: StreamQueue<typeof schema>, all: string[]) {
    const present = new Set(await ids(q));
    const groups = (await t.redis.xinfo('GROUPS', q.keys.stream)) as (string | number)[][];
    for (const group of groups) {
      const info = new Map<string, string | number>();
      for (let i = 0; i + 1 < group.length; i += 2) info.set(String(group[i]), group[i + 1] as string | number);
      const name = String(info.get('name'));
      const pending = ((await t.redis.xpending(q.keys.stream, name, '-', '+', 10_000)) as [string][]).map(([id]) => id);
      for (const id of pending) expect(present.has(id), `pending ${id} of ${name}`).toBe(true);
      const last = String(info.get('last-delivered-id'));
      const after = (id: string) => {
        const [ms, seq] = id.split('-').map(BigInt) as [bigint, bigint];
        const [lms, lseq] = last.split('-').map(BigInt) as [bigint, bigint];
        return ms > lms || (ms === lms && seq > lseq);
      };
      for (const id of all.filter(after)) expect(present.has(id), `undelivered ${id} of ${name}`).toBe(true);
    }
  }

  it('automatic trim (trim: { maxLen, every }) removes only what every group has acknowledged', async () => {
    const stream = `t${++streams}`;
    const q = new StreamQueue({
      redis: t.redis,
      namespace: t.namespace,
      stream,
      schema,
      trim: { maxLen: 0, every: 5 },
    });
    const all = await q.addMany(Array.from({ length: 10 }, (_, n) => ({ n })));
    // No group yet: nothing has been read, so the automatic trim keeps everything.
    expect(await ids(q)).toEqual(all);

    await t.redis.xgroup('CREATE', q.keys.stream, 'g1', '0');
    await t.redis.xgroup('CREATE', q.keys.stream, 'g2', '0');
    await t.redis.xreadgroup('GROUP', 'g1', 'c', 'COUNT', 4, 'STREAMS', q.keys.stream, '>');
    await t.redis.xack(q.keys.stream, 'g1', all[0] as string, all[1] as string);
    for (let n = 10; n < 15; n++) all.push((await q.add({ n })).id);
    // g2 has read nothing: still nothing goes.
    expect(await ids(q)).toEqual(all);
    await assertNothingNeededWasTrimmed(q, all);

    await t.redis.xreadgroup('GROUP', 'g2', 'c', 'COUNT', 100, 'STREAMS', q.keys.stream, '>');
    await t.redis.xack(q.keys.stream, 'g2', ...all);
    all.push(...(await q.addMany(Array.from({ length: 5 }, (_, n) => ({ n: 15 + n })))));
    // g1 still has entries 2 and 3 pending: exactly 0 and 1 went.
    expect(await ids(q)).toEqual(all.slice(2));
    await assertNothingNeededWasTrimmed(q, all);

    // Four adds do not reach `every`: no trim even after g1 acknowledges.
    await t.redis.xreadgroup('GROUP', 'g1', 'c', 'COUNT', 100, 'STREAMS', q.keys.stream, '>');
    await t.redis.xack(q.keys.stream, 'g1', ...all);
    await t.redis.xreadgroup('GROUP', 'g2', 'c', 'COUNT', 100, 'STREAMS', q.keys.stream, '>');
    await t.redis.xack(q.keys.stream, 'g2', ...all);
    for (let n = 20; n < 24; n++) all.push((await q.add({ n })).id);
    expect(await ids(q)).toEqual(all.slice(2));
    // The fifth does: everything read and acknowledged by both goes, the four unread stay.
    all.push((await q.add({ n: 24 })).id);
    expect(await ids(q)).toEqual(all.slice(20));
    await assertNothingNeededWasTrimmed(q, all);
  });

  it('automatic trim by maxLen keeps the newest entries', async () => {
    const q = new StreamQueue({
      redis: t.redis,
      namespace: t.namespace,
      stream: `t${++streams}`,
      schema,
      trim: { maxLen: 3, every: 1 },
    });
    await t.redis.xgroup('CREATE', q.keys.stream, 'g', '0', 'MKSTREAM');
    const all = await q.addMany(Array.from({ length: 10 }, (_, n) => ({ n })));
    expect(await ids(q)).toEqual(all);
    await t.redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 100, 'STREAMS', q.keys.stream, '>');
    await t.redis.xack(q.keys.stream, 'g', ...all);
    all.push((await q.add({ n: 10 })).id);
    expect(await ids(q)).toEqual(all.slice(-3));
  });

  it('automatic trim while a consumer runs loses no message', async () => {
    const q = new StreamQueue({
      redis: t.redis,
      namespace: t.namespace,
      stream: `t${++streams}`,
      schema,
      trim: { maxLen: 0, every: 10 },
    });
    const seen = new Map<number, number>();
    const consumer = q.consume(
      async (message) => {
        seen.set(message.n, (seen.get(message.n) ?? 0) + 1);
        if (message.n % 7 === 0) await sleep(5);
      },
      { group: 'g', concurrency: 8, blockMs: 50 },
    );
    stops.push(() => consumer.stop());
    await consumer.ready;
    const errors: string[] = [];
    q.events.on('error', ({ error }) => errors.push(error));
    const all: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const adds = Array.from({ length: 20 }, (_, i) => q.add({ n: batch * 20 + i }));
      all.push(...(await Promise.all(adds)).map((r) => r.id));
      await assertNothingNeededWasTrimmed(q, all);
    }
    await waitFor(() => seen.size === 200, { timeoutMs: 10_000, what: 'every message' });
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(errors).toEqual([]);
  });
});
