import { InvalidOptionsError } from '@redkit/core';
import { StreamQueue } from '@redkit/queue';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { sleep, waitFor } from './helpers.js';

const schema = z.object({ n: z.number().int() });

describeTopologies('stream queue', (t) => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    await Promise.all(stops.splice(0).map((stop) => stop()));
  });
  let streams = 0;
  const queue = () => new StreamQueue({ redis: t.redis, namespace: t.namespace, stream: `s${++streams}`, schema });
  const pendingCount = async (q: StreamQueue<typeof schema>, group: string) =>
    ((await t.redis.xpending(q.keys.stream, group)) as [number])[0];

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
    await waitFor(() => seen.length === 3, { timeoutMs: 10_000, what: 'three messages' });
    expect(seen.map((s) => s.n).sort()).toEqual([1, 2, 3]);
    expect(seen.every((s) => s.attempt === 1)).toBe(true);
    expect(seen.map((s) => s.id).sort()).toEqual([first.id, ...rest].sort());
    await waitFor(async () => (await pendingCount(q, 'g')) === 0, { timeoutMs: 5_000, what: 'no pending entry' });
    // Messages added while it runs arrive too.
    await q.add({ n: 4 });
    await waitFor(() => seen.length === 4, { timeoutMs: 10_000, what: 'the fourth message' });
    expect((await consumer.stop()).unfinished).toBe(0);
    await sleep(50);
    expect(await pendingCount(q, 'g')).toBe(0);
    // A stopped consumer that owns nothing leaves the group.
    expect((await q.stats()).groups).toMatchObject([{ name: 'g', consumers: 0 }]);
  });

  it('a repeated idempotencyKey returns the first id and adds nothing', async () => {
    const q = queue();
    const first = await q.add({ n: 1 }, { idempotencyKey: 'order:1' });
    const again = await q.add({ n: 2 }, { idempotencyKey: 'order:1' });
    const other = await q.add({ n: 3 }, { idempotencyKey: 'order:2' });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(other.duplicate).toBe(false);
    expect(other.id).not.toBe(first.id);
    expect(await t.redis.xlen(q.keys.stream)).toBe(2);
    // Concurrent adds with one key: exactly one is added.
    const results = await Promise.all(Array.from({ length: 20 }, () => q.add({ n: 9 }, { idempotencyKey: 'race' })));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await t.redis.xlen(q.keys.stream)).toBe(3);
  });

  it('add with an explicit id writes that id; with an idempotencyKey too', async () => {
    const q = queue();
    expect(await q.add({ n: 1 }, { id: '1000-5' })).toEqual({ id: '1000-5', duplicate: false });
    expect(await q.add({ n: 2 }, { id: '1000-6', idempotencyKey: 'x' })).toEqual({ id: '1000-6', duplicate: false });
    // The key wins over the id: a repeat adds nothing and returns the first id.
    expect(await q.add({ n: 3 }, { id: '2000-0', idempotencyKey: 'x' })).toEqual({ id: '1000-6', duplicate: true });
    const entries = (await t.redis.xrange(q.keys.stream, '-', '+')) as [string, string[]][];
    expect(entries).toEqual([
      ['1000-5', ['d', '{"n":1}']],
      ['1000-6', ['d', '{"n":2}', 'k', 'x']],
    ]);
    // An id the stream has passed is refused, naming the field; nothing is written.
    const refused = await q.add({ n: 4 }, { id: '1000-6' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidOptionsError);
    expect((refused as InvalidOptionsError).issues.map((issue) => issue.path)).toEqual(['id']);
    expect(await t.redis.xlen(q.keys.stream)).toBe(2);
  });

  it('adds of one tick are pipelined together: each gets its own id or error, in call order', async () => {
    const q = queue();
    const settled = await Promise.allSettled([
      q.add({ n: 1 }),
      q.add({ n: 2 }, { id: '1-1' }),
      q.add({ n: 3 }),
      ...Array.from({ length: 100 }, (_, i) => q.add({ n: 10 + i })),
    ]);
    expect(settled.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      ...Array.from({ length: 101 }, () => 'fulfilled'),
    ]);
    const refused = (settled[1] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(InvalidOptionsError);
    expect((refused as InvalidOptionsError).issues.map((issue) => issue.path)).toEqual(['id']);
    const ids = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value.id] : []));
    const entries = (await t.redis.xrange(q.keys.stream, '-', '+')) as [string, string[]][];
    // The stream holds exactly the accepted adds, in the order they were called, under the ids they were given.
    expect(entries.map(([id]) => id)).toEqual(ids);
    expect(entries.map(([, fields]) => JSON.parse(fields[1] as string).n)).toEqual([
      1,
      3,
      ...Array.from({ length: 100 }, (_, i) => 10 + i),
    ]);
  });

  it('addMany honours idempotency keys: within the call, across calls and against add', async () => {
    const q = queue();
    const first = await q.add({ n: 0 }, { idempotencyKey: 'k0' });
    const keyOf = (message: { n: number }) => (message.n < 0 ? undefined : `k${message.n}`);
    const results = await q.addMany([{ n: 1 }, { n: 0 }, { n: 2 }, { n: 1 }, { n: -1 }, { n: -1 }], {
      idempotencyKey: keyOf,
    });
    expect(results.map((r) => r.duplicate)).toEqual([false, true, false, true, false, false]);
    expect(results[1]?.id).toBe(first.id);
    expect(results[3]?.id).toBe(results[0]?.id);
    const entries = (await t.redis.xrange(q.keys.stream, '-', '+')) as [string, string[]][];
    // In order: n 0 (add), then 1, 2 and the two without a key.
    expect(entries.map(([id]) => id)).toEqual([
      first.id,
      results[0]?.id,
      results[2]?.id,
      results[4]?.id,
      results[5]?.id,
    ]);
    expect(entries.map(([, fields]) => JSON.parse(fields[1] as string).n)).toEqual([0, 1, 2, -1, -1]);
    // Concurrent addMany calls with overlapping keys: every key is added exactly once.
    const batches = await Promise.all(
      Array.from({ length: 8 }, (_, b) =>
        q.addMany(
          Array.from({ length: 30 }, (_, i) => ({ n: 100 + ((i + b * 7) % 40) })),
          { idempotencyKey: keyOf },
        ),
      ),
    );
    const added = batches.flat().filter((r) => !r.duplicate);
    expect(added).toHaveLength(40);
    expect(await t.redis.xlen(q.keys.stream)).toBe(5 + 40);
    // Every duplicate names the id its key was first added with.
    const idOfKey = new Map<string, string>();
    for (const [id, fields] of (await t.redis.xrange(q.keys.stream, '-', '+')) as [string, string[]][]) {
      if (fields[3] !== undefined) idOfKey.set(fields[3], id);
    }
    batches.forEach((batch, b) => {
      batch.forEach((result, i) => {
        expect(result.id).toBe(idOfKey.get(`k${100 + ((i + b * 7) % 40)}`));
      });
    });
    expect(await q.addMany([], { idempotencyKey: keyOf })).toEqual([]);
  });

  it('a handler failing twice is retried with growing backoff, then acknowledged', async () => {
    const q = queue();
    const { id } = await q.add({ n: 7 });
    const attempts: { at: number; attempt: number; lastError: string | undefined }[] = [];
    const consumer = q.consume(
      (_message, context) => {
        attempts.push({ at: performance.now(), attempt: context.attempt, lastError: context.lastError });
        if (attempts.length <= 2) throw new Error(`boom ${attempts.length}`);
      },
      { group: 'g', blockMs: 50, backoff: { initial: 300, max: 10_000, jitter: 0.5 }, promoteInterval: 1_000 },
    );
    stops.push(() => consumer.stop());
    await waitFor(() => attempts.length === 3, { timeoutMs: 15_000, what: 'three attempts' });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(attempts.map((a) => a.lastError)).toEqual([undefined, 'Error: boom 1', 'Error: boom 2']);
    const first = (attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0);
    const second = (attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0);
    // Delays of 300 ms then 600 ms, each with up to half taken off by jitter: [150, 300] then [300, 600].
    expect(first).toBeGreaterThanOrEqual(140);
    expect(second).toBeGreaterThanOrEqual(290);
    expect(second).toBeGreaterThan(first);
    await waitFor(async () => (await pendingCount(q, 'g')) === 0, { timeoutMs: 5_000, what: 'no pending entry' });
    expect(await t.redis.zcard(q.keys.delayed)).toBe(0);
    expect(await q.deadLetters.count()).toBe(0);
    expect(id).toMatch(/^\d+-\d+$/);
  });

  it('an always-failing handler ends in the dead letters after exactly maxDeliveries attempts; replay puts it back', async () => {
    const q = queue();
    const { id } = await q.add({ n: 42 });
    let calls = 0;
    let healed = false;
    const succeeded: number[] = [];
    const dead: string[] = [];
    q.events.on('dead-lettered', ({ reason }) => dead.push(reason));
    const consumer = q.consume(
      (message, context) => {
        calls++;
        if (!healed) throw new Error(`always fails (attempt ${context.attempt})`);
        succeeded.push(message.n);
      },
      { group: 'g', blockMs: 50, maxDeliveries: 3, backoff: { initial: 20, max: 100 }, promoteInterval: 50 },
    );
    stops.push(() => consumer.stop());
    await waitFor(async () => (await q.deadLetters.count()) === 1, { timeoutMs: 15_000, what: 'a dead letter' });
    // No further attempt after it died.
    await sleep(300);
    expect(calls).toBe(3);
    expect(dead).toEqual(['max-deliveries']);
    const [letter] = await q.deadLetters.list();
    expect(letter).toMatchObject({
      message: { n: 42 },
      reason: 'max-deliveries',
      error: 'Error: always fails (attempt 3)',
      attempts: 3,
      group: 'g',
      originalId: id,
    });
    expect(letter?.deadAt).toBeGreaterThan(0);
    expect(await q.deadLetters.get(letter?.id as string)).toEqual(letter);
    expect(await pendingCount(q, 'g')).toBe(0);
    expect(await t.redis.zcard(q.keys.delayed)).toBe(0);

    healed = true;
    const replayed = await q.deadLetters.replay(letter?.id as string);
    expect(replayed).toMatch(/^\d+-\d+$/);
    await waitFor(() => succeeded.length === 1, { timeoutMs: 10_000, what: 'the replayed message' });
    expect(succeeded).toEqual([42]);
    expect(calls).toBe(4);
    expect(await q.deadLetters.count()).toBe(0);
    expect(await q.deadLetters.replay(letter?.id as string)).toBeNull();
    expect(await q.deadLetters.get(letter?.id as string)).toBeNull();
  });

  it('a message that fails the schema when read goes to the dead letters as invalid, without a handler call', async () => {
    const q = queue();
    await t.redis.xadd(q.keys.stream, '*', 'd', JSON.stringify({ n: 'not a number' }));
    let calls = 0;
    const consumer = q.consume(
      () => {
        calls++;
      },
      { group: 'g', blockMs: 50 },
    );
    stops.push(() => consumer.stop());
    await waitFor(async () => (await q.deadLetters.count()) === 1, { timeoutMs: 10_000, what: 'a dead letter' });
    const [letter] = await q.deadLetters.list();
    expect(letter?.reason).toBe('invalid');
    expect(letter?.message).toBeUndefined();
    expect(letter?.error).toContain('message.n');
    expect(calls).toBe(0);
    expect(await q.deadLetters.purge()).toBe(1);
    expect(await q.deadLetters.count()).toBe(0);
  });

  it('a retry goes back only to the group whose handler failed', async () => {
    const q = queue();
    await q.add({ n: 1 });
    const seenA: number[] = [];
    const seenB: number[] = [];
    const a = q.consume(
      (_m, context) => {
        seenA.push(context.attempt);
        if (context.attempt === 1) throw new Error('once');
      },
      { group: 'a', blockMs: 50, backoff: { initial: 10, max: 10 }, promoteInterval: 50 },
    );
    const b = q.consume(
      (_m, context) => {
        seenB.push(context.attempt);
      },
      { group: 'b', blockMs: 50 },
    );
    stops.push(
      () => a.stop(),
      () => b.stop(),
    );
    await waitFor(() => seenA.length === 2, { timeoutMs: 10_000, what: 'the retry in group a' });
    await sleep(300);
    expect(seenA).toEqual([1, 2]);
    expect(seenB).toEqual([1]);
    expect(await pendingCount(q, 'b')).toBe(0);
  });

  it('a consumer that dies leaves its message pending; another claims it after the visibility timeout', async () => {
    const q = queue();
    const { id } = await q.add({ n: 5 });
    // The dying consumer has its own connection, dropped while its handler hangs (never acked).
    const doomedRedis = t.client();
    const doomedQueue = new StreamQueue({ redis: doomedRedis, namespace: t.namespace, stream: q.stream, schema });
    let started = false;
    const doomed = doomedQueue.consume(
      () => {
        started = true;
        return new Promise(() => {});
      },
      { group: 'g', consumer: 'doomed', blockMs: 50, visibilityTimeout: 600 },
    );
    await waitFor(() => started, { timeoutMs: 10_000, what: 'the doomed consumer to start' });
    // Its heartbeat kept the claim alive meanwhile.
    await sleep(900);
    const owners = (await t.redis.xpending(q.keys.stream, 'g', '-', '+', 10)) as [string, string, number, number][];
    expect(owners).toHaveLength(1);
    expect(owners[0]?.[1]).toBe('doomed');
    expect(owners[0]?.[2]).toBeLessThan(600);
    doomedRedis.disconnect();
    const dropped = performance.now();

    const seen: { id: string; attempt: number; at: number }[] = [];
    const survivor = q.consume(
      (_m, context) => {
        seen.push({ id: context.id, attempt: context.attempt, at: performance.now() });
      },
      { group: 'g', consumer: 'survivor', blockMs: 50, visibilityTimeout: 600, claimInterval: 100 },
    );
    stops.push(
      () => survivor.stop(),
      () => doomed.stop({ deadlineMs: 0 }),
    );
    await waitFor(() => seen.length === 1, { timeoutMs: 10_000, what: 'the claim' });
    expect(seen[0]?.id).toBe(id);
    // The claim counts as a delivery.
    expect(seen[0]?.attempt).toBe(2);
    // Not before the visibility timeout (measured from the last heartbeat, at most 200 ms before the drop).
    expect((seen[0]?.at ?? 0) - dropped).toBeGreaterThanOrEqual(350);
    await waitFor(async () => (await pendingCount(q, 'g')) === 0, { timeoutMs: 5_000, what: 'no pending entry' });
  });

  it('a stuck message behind many live pending ones is still found (the claim scan goes on where it stopped)', async () => {
    const q = queue();
    await q.addMany(Array.from({ length: 40 }, (_, n) => ({ n })));
    const release: (() => void)[] = [];
    const busy = q.consume(() => new Promise<void>((resolve) => release.push(resolve)), {
      group: 'g',
      consumer: 'busy',
      concurrency: 40,
      blockMs: 50,
      visibilityTimeout: 600,
    });
    await waitFor(() => release.length === 40, { timeoutMs: 10_000, what: 'forty handlers to start' });
    // A consumer that read one newer message and died: its entry sits behind the 40 live ones.
    const { id } = await q.add({ n: 99 });
    await t.redis.xreadgroup('GROUP', 'g', 'dead', 'COUNT', 1, 'STREAMS', q.keys.stream, '>');
    const seen: number[] = [];
    // Concurrency 1: each XAUTOCLAIM call scans at most 10 entries of the pending list.
    const rescuer = q.consume(
      (message) => {
        seen.push(message.n);
      },
      { group: 'g', consumer: 'rescuer', blockMs: 50, visibilityTimeout: 600, claimInterval: 50 },
    );
    stops.push(
      () => rescuer.stop(),
      async () => {
        for (const resolve of release) resolve();
        await busy.stop();
      },
    );
    await waitFor(() => seen.length === 1, { timeoutMs: 10_000, what: 'the stuck message' });
    expect(seen).toEqual([99]);
    const pending = (await t.redis.xpending(q.keys.stream, 'g', '-', '+', 100)) as [string, string][];
    expect(pending.map(([entry]) => entry)).not.toContain(id);
    expect(pending.every(([, owner]) => owner === 'busy')).toBe(true);
  });

  it('stats() reports length, retries, dead letters, and per group pending, lag, age and deliveries', async () => {
    const q = queue();
    await q.addMany([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
    await t.redis.xadd(q.keys.stream, '*', 'd', '"not an object"');
    await t.redis.xgroup('CREATE', q.keys.stream, 'idle', '0');
    const release: (() => void)[] = [];
    let done = 0;
    const consumer = q.consume(
      async (message) => {
        if (message.n < 2) await new Promise<void>((resolve) => release.push(resolve));
        if (message.n === 2) throw new Error('later');
        done++;
      },
      { group: 'g', concurrency: 10, blockMs: 50, backoff: { initial: '1m', max: '1m' } },
    );
    stops.push(async () => {
      for (const resolve of release) resolve();
      await consumer.stop();
    });
    await waitFor(async () => release.length === 2 && done === 1 && (await q.deadLetters.count()) === 1, {
      timeoutMs: 10_000,
      what: 'the handlers',
    });
    await waitFor(async () => (await q.stats()).delayed === 1, { timeoutMs: 5_000, what: 'the retry' });
    await sleep(30);
    const stats = await q.stats();
    expect(stats).toMatchObject({ length: 5, delayed: 1, dead: 1 });
    const byName = new Map(stats.groups.map((group) => [group.name, group]));
    expect(byName.get('idle')).toMatchObject({
      pending: 0,
      lag: 5,
      oldestPendingMs: null,
      deliveries: {},
      consumers: 0,
    });
    const g = byName.get('g');
    expect(g).toMatchObject({ pending: 2, lag: 0, deliveries: { 1: 2 }, consumers: 1 });
    expect(g?.oldestPendingMs).toBeGreaterThanOrEqual(25);
    expect(g?.oldestPendingMs).toBeLessThan(10_000);
    const none = await queue().stats();
    expect(none).toEqual({ length: 0, delayed: 0, dead: 0, groups: [] });

    // health() judges the same figures against thresholds.
    expect((await q.health({ maxPendingAge: '1h', maxDead: 1, maxLag: 5 })).healthy).toBe(true);
    const unhealthy = await q.health({ maxPendingAge: 0, maxLag: 4 });
    expect(unhealthy.healthy).toBe(false);
    expect(unhealthy.problems).toEqual([
      expect.stringMatching(/^group g: oldest pending entry is \d+ ms old \(max 0\)$/),
      'group idle: 5 entries not read yet (max 4)',
      '1 dead letters (max 0)',
    ]);
  });

  it('stop() waits for in-flight handlers up to the deadline; unfinished messages stay pending', async () => {
    const q = queue();
    await q.addMany([{ n: 1 }, { n: 2 }]);
    const release: (() => void)[] = [];
    let finished = 0;
    const consumer = q.consume(
      async (message) => {
        if (message.n === 1) await sleep(200);
        else await new Promise<void>((resolve) => release.push(resolve));
        finished++;
      },
      { group: 'g', concurrency: 2, blockMs: 5_000 },
    );
    await waitFor(() => release.length === 1, { timeoutMs: 10_000, what: 'both handlers to start' });
    const started = performance.now();
    const result = await consumer.stop({ deadlineMs: 500 });
    const took = performance.now() - started;
    expect(result).toEqual({ finished: 1, unfinished: 1 });
    // It did not wait for the 5 s blocking read, and not much past the deadline.
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(2_000);
    expect(finished).toBe(1);
    const pending = (await t.redis.xpending(q.keys.stream, 'g', '-', '+', 10)) as [string, string][];
    expect(pending).toHaveLength(1);
    // It still owns an entry, so it stays in the group (deleting it would drop the entry).
    expect((await q.stats()).groups).toMatchObject([{ name: 'g', consumers: 1, pending: 1 }]);
    for (const resolve of release) resolve();
  });
});
