import { Cache, SinkTimeoutError, type WriteBehindWrite } from '@redkit/cache';
import { InvalidOptionsError, RedisUnavailableError } from '@redkit/core';
import { StreamQueue } from '@redkit/queue';
import {
  createAclUser,
  type ReplicatedRedis,
  type StandaloneRedis,
  startReplicated,
  startStandalone,
} from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keysOf, sleep, waitFor } from './helpers.js';

/**
 * A database table as the sink contract asks: it records every write handed
 * to it and applies a write only when its version is newer than the stored
 * one (`... WHERE excluded.version > t.version`).
 */
class VersionedTable {
  readonly rows = new Map<string, { version: number; value: unknown; deleted: boolean }>();
  /** Versions applied per key, in order. */
  readonly applied = new Map<string, number[]>();
  readonly calls: (readonly WriteBehindWrite[])[] = [];
  skipped = 0;

  apply(writes: readonly WriteBehindWrite[]): void {
    this.calls.push(writes);
    for (const write of writes) {
      const row = this.rows.get(write.key);
      if (row && row.version >= write.version) {
        this.skipped++;
        continue;
      }
      this.rows.set(write.key, { version: write.version, value: write.value, deleted: write.deleted });
      const versions = this.applied.get(write.key) ?? [];
      versions.push(write.version);
      this.applied.set(write.key, versions);
    }
  }
}

describeTopologies('write-behind', (t) => {
  it('writes the cache and the stream in one step; the flusher coalesces, deletes and trims what it flushed', async () => {
    const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:a`, writeBehind: { partitions: 3 } });
    const table = new VersionedTable();
    const versions: number[] = [];
    for (let n = 0; n < 5; n++) versions.push(await cache.writeBehind('user:1', { n }));
    await cache.writeBehind('user:2', { n: 0 }, { tags: ['team'] });
    const deleted = await cache.writeBehind('gone', 'x').then(() => cache.writeBehindDelete('gone'));
    // Versions grow; the cache serves the newest value at once, and the rest of the API works in this layout.
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(new Set(versions).size).toBe(5);
    expect(await cache.get('user:1')).toEqual({ n: 4 });
    expect(await cache.get('gone')).toBeUndefined();
    expect(await cache.getOrSet('user:2', () => ({ n: -1 }))).toEqual({ n: 0 });
    await cache.invalidateTags(['team']);
    expect(await cache.getOrSet('user:2', () => ({ n: -1 }))).toEqual({ n: -1 });
    // The entry shares its partition stream's slot; the stream key is the one @redkit/queue uses.
    const flusher = cache.writeBehindFlusher({
      group: 'db',
      batch: 50,
      blockMs: 100,
      trimInterval: 50,
      sink: async (writes) => table.apply(writes),
    });
    await flusher.ready;
    const queue = new StreamQueue({ redis: t.redis, stream: 'writes-0', namespace: `${t.namespace}:a:write-behind` });
    expect(flusher.queues[0]?.keys.stream).toBe(queue.keys.stream);
    await waitFor(() => table.rows.size === 3, { timeoutMs: 10_000, what: 'three keys flushed' });
    expect(table.rows.get('user:1')).toEqual({ version: versions[4], value: { n: 4 }, deleted: false });
    expect(table.rows.get('user:2')?.value).toEqual({ n: 0 });
    expect(table.rows.get('gone')).toEqual({ version: deleted, value: undefined, deleted: true });
    // Written before the flusher started, the five writes of user:1 came in one read: one write reached the sink.
    expect(table.calls.flat().filter((write) => write.key === 'user:1')).toHaveLength(1);
    // Flushed writes are acknowledged, then trimmed from the streams.
    await waitFor(
      async () => (await flusher.stats()).every((stats) => stats.length === 0 && stats.groups[0]?.pending === 0),
      { timeoutMs: 10_000, what: 'acknowledged and trimmed' },
    );
    expect(await flusher.stop()).toEqual({ finished: 0, unfinished: 0 });
    await cache.close();
  });

  it('gzipped entries and custom serializers reach the sink as the values written', async () => {
    const big = { text: 'x'.repeat(500) };
    const serializer = {
      serialize: (value: unknown) => `S:${JSON.stringify(value)}`,
      deserialize: (text: string) => JSON.parse(text.slice(2)),
    };
    for (const [suffix, options] of [
      ['gz', { compressAbove: 100 }],
      ['custom', { compressAbove: 100, serializer }],
      ['custom-small', { serializer }],
    ] as const) {
      const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:${suffix}`, writeBehind: {}, ...options });
      const table = new VersionedTable();
      await cache.writeBehind('big', big);
      await cache.writeBehind('small', [1, 'two']);
      expect(await cache.get('big')).toEqual(big);
      const flusher = cache.writeBehindFlusher({ blockMs: 100, sink: (writes) => table.apply(writes) });
      await waitFor(() => table.rows.size === 2, { timeoutMs: 10_000, what: `${suffix}: two writes flushed` });
      expect(table.rows.get('big')?.value).toEqual(big);
      expect(table.rows.get('small')?.value).toEqual([1, 'two']);
      await flusher.stop();
      await cache.close();
    }
  });

  it('with a schema, values are checked on write and the sink gets the schema output', async () => {
    const schema = z.object({ at: z.iso.datetime().transform((text) => new Date(text)) });
    const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:schema`, writeBehind: {}, schema });
    const table = new VersionedTable();
    const at = new Date('2026-01-02T03:04:05.000Z');
    // A Date is stored as JSON text; readers and the flusher decode it back through the schema.
    await cache.writeBehind('a', { at });
    await expect(cache.writeBehind('b', { at: 'yesterday' } as never)).rejects.toThrow(
      /value: fails the cache's schema/,
    );
    expect(await cache.get('a')).toEqual({ at });
    const flusher = cache.writeBehindFlusher({ blockMs: 100, sink: (writes) => table.apply(writes) });
    await waitFor(() => table.rows.has('a'), { timeoutMs: 10_000, what: 'the write flushed' });
    expect(table.rows.get('a')?.value).toEqual({ at });
    expect(table.rows.has('b')).toBe(false);
    await flusher.stop();
    await cache.close();
  });

  it('a failing write is retried alone and dead-lettered; the rest of its batch is flushed', async () => {
    const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:b`, writeBehind: { partitions: 1 } });
    const table = new VersionedTable();
    for (const key of ['a', 'poison', 'b']) await cache.writeBehind(key, key);
    const flusher = cache.writeBehindFlusher({
      group: 'db',
      blockMs: 100,
      maxDeliveries: 2,
      backoff: { initial: 10, max: 10 },
      claimInterval: 50,
      sink: async (writes) => {
        if (writes.some((write) => write.key === 'poison')) throw new Error('constraint violated');
        table.apply(writes);
      },
    });
    const dead = flusher.queues[0] as StreamQueue;
    await waitFor(async () => (await dead.deadLetters.count()) === 1, { timeoutMs: 10_000, what: 'a dead letter' });
    expect([...table.rows.keys()].sort()).toEqual(['a', 'b']);
    const [letter] = await dead.deadLetters.list();
    expect(letter?.message).toMatchObject({ key: 'poison', value: 'poison' });
    expect(letter?.error).toContain('constraint violated');
    await flusher.stop();
    await cache.close();
  });

  it('a sink call that hangs past sinkTimeout fails and its writes are retried', async () => {
    const cache = new Cache({ redis: t.redis, namespace: `${t.namespace}:hang`, writeBehind: { partitions: 1 } });
    const table = new VersionedTable();
    await cache.writeBehind('a', 1);
    let calls = 0;
    const flusher = cache.writeBehindFlusher({
      blockMs: 100,
      sinkTimeout: 100,
      backoff: { initial: 10, max: 10 },
      sink: (writes) => {
        // The first call never settles, as a hung database connection.
        if (calls++ === 0) return new Promise(() => {});
        table.apply(writes);
      },
    });
    const errors: unknown[] = [];
    flusher.events.on('sink-error', ({ error }) => errors.push(error));
    await waitFor(() => table.rows.get('a')?.value === 1, { timeoutMs: 10_000, what: 'the retried write' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SinkTimeoutError);
    await flusher.stop();
    await cache.close();
  });

  it('10,000 writes over 500 keys, the flusher killed and restarted mid-way: the sink ends with every latest value, never going back', async () => {
    const namespace = `${t.namespace}:acceptance`;
    const total = 10_000;
    const writeBehind = { partitions: 4 };
    const writer = new Cache({ redis: t.client(), namespace, writeBehind, timeout: 5_000 });
    const table = new VersionedTable();
    // What each write carried, to check every delivery against it.
    const written = new Map<string, number>();
    const latest = new Map<string, { version: number; n: number }>();
    let killed = false;
    let held = 0;
    const flusherOptions = {
      group: 'db',
      batch: 50,
      blockMs: 100,
      visibilityTimeout: 1_000,
      claimInterval: 200,
      trimInterval: 500,
    };
    const doomedClient = t.client();
    const doomed = new Cache({ redis: doomedClient, namespace, writeBehind }).writeBehindFlusher({
      ...flusherOptions,
      consumer: 'doomed',
      sink: (writes) => {
        // A dead process never finishes what it holds.
        if (killed) {
          held += writes.length;
          return new Promise(() => {});
        }
        table.apply(writes);
      },
    });
    await doomed.ready;
    let next = 0;
    const produce = async () => {
      while (next < total) {
        const n = next++;
        const key = `k${Math.floor(Math.random() * 500)}`;
        const version = await writer.writeBehind(key, { n });
        written.set(`${key}@${version}`, n);
        if ((latest.get(key)?.version ?? 0) < version) latest.set(key, { version, n });
      }
    };
    const producing = Promise.all(Array.from({ length: 16 }, produce));
    await waitFor(() => table.calls.length > 0 && next >= total / 3, {
      timeoutMs: 30_000,
      what: 'a third of the writes',
    });
    // Kill the flusher: its connection drops, the writes it holds are never acknowledged.
    killed = true;
    doomedClient.disconnect();
    const restarted = new Cache({ redis: t.client(), namespace, writeBehind }).writeBehindFlusher({
      ...flusherOptions,
      consumer: 'restarted',
      sink: (writes) => table.apply(writes),
    });
    let claimed = 0;
    for (const queue of restarted.queues) queue.events.on('claimed', ({ count }) => (claimed += count));
    await producing;
    expect(latest.size).toBe(500);
    await waitFor(() => [...latest].every(([key, { version }]) => table.rows.get(key)?.version === version), {
      timeoutMs: 30_000,
      what: 'every latest write flushed',
    });
    await waitFor(async () => (await restarted.stats()).every((stats) => stats.groups[0]?.pending === 0), {
      timeoutMs: 10_000,
      what: 'nothing pending',
    });
    for (const [key, { version, n }] of latest) {
      expect(table.rows.get(key)).toEqual({ version, value: { n }, deleted: false });
      expect(await writer.get(key)).toEqual({ n });
    }
    // Every delivery carried the value written with its version; each call held a key at most once (coalesced).
    for (const call of table.calls) {
      expect(new Set(call.map((write) => write.key)).size).toBe(call.length);
      for (const write of call)
        expect(written.get(`${write.key}@${write.version}`)).toBe((write.value as { n: number }).n);
    }
    for (const versions of table.applied.values()) expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    // The kill left writes in the dead flusher's hands; the restarted one claimed them.
    expect(held).toBeGreaterThan(0);
    expect(claimed).toBeGreaterThan(0);
    await restarted.stop();
    await doomed.stop({ deadlineMs: 0 });
    await writer.close();
  }, 60_000);

  it('bad input throws InvalidOptionsError naming the field and writes nothing', async () => {
    const namespace = `${t.namespace}:input`;
    expect(() => new Cache({ redis: t.redis, namespace, writeBehind: { partitions: 0 } })).toThrow(
      /writeBehind\.partitions/,
    );
    expect(() => new Cache({ redis: t.redis, namespace, writeBehind: { stream: '' } })).toThrow(/writeBehind\.stream/);
    expect(() => new Cache({ redis: t.redis, namespace, writeBehind: {}, replicas: 2 })).toThrow(/writeBehind/);
    const plain = new Cache({ redis: t.redis, namespace });
    await expect(plain.writeBehind('k', 1)).rejects.toThrow(/writeBehind: is not enabled/);
    expect(() => plain.writeBehindFlusher({ sink: () => {} })).toThrow(/writeBehind/);
    const cache = new Cache({ redis: t.redis, namespace, writeBehind: {} });
    const cases: [() => unknown, RegExp][] = [
      [() => cache.writeBehind('', 1), /key: must not be empty/],
      [() => cache.writeBehind('k', undefined), /value: must not be undefined/],
      [() => cache.writeBehind('k', 10n), /value: cannot be serialized/],
      [() => cache.writeBehind('k', 1, { ttl: -1 }), /ttl/],
      [() => cache.writeBehind('k', 1, { tags: ['bad tag'] }), /tags\.0/],
      [() => cache.writeBehindDelete(42 as unknown as string), /key/],
      [() => cache.writeBehindFlusher({} as never), /sink/],
      [() => cache.writeBehindFlusher({ sink: () => {}, batch: 0 }), /batch/],
      [() => cache.writeBehindFlusher({ sink: () => {}, sinkTimeout: 0 }), /sinkTimeout/],
      [() => cache.writeBehindFlusher({ sink: () => {}, group: '' }), /group/],
      [() => cache.writeBehindFlusher({ sink: () => {}, trimInterval: '1 week' as never }), /trimInterval/],
    ];
    for (const [call, message] of cases) {
      const error = await Promise.resolve()
        .then(call)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as Error).message).toMatch(message);
    }
    expect(await keysOf(t.redis, namespace)).toEqual([]);
  });

  it('works as a least-privilege ACL user with the documented commands', async () => {
    const user = await createAclUser(t.redis, {
      commands: [
        ...['evalsha', 'eval', 'time', 'get', 'mget', 'set', 'getrange', 'del', 'pttl', 'unlink', 'scan'],
        ...['publish', 'subscribe', 'unsubscribe', 'xadd'],
        // The flusher: @redkit/queue's consumer commands.
        ...['xgroup|create', 'xgroup|delconsumer', 'xreadgroup', 'xack', 'xpending', 'xautoclaim', 'xclaim'],
        ...['xrange', 'xrevrange', 'xlen', 'xtrim', 'xinfo|groups', 'exists', 'zadd', 'zrangebyscore'],
        ...['zrange', 'zcard', 'zrem', 'hset', 'hget', 'hdel'],
      ],
      keys: [`${t.namespace}:*`],
      channels: [`${t.namespace}:invalidations`],
    });
    const redis = t.client({ username: user.username, password: user.password });
    const cache = new Cache({ redis, namespace: t.namespace, writeBehind: { partitions: 2 }, l1: { maxEntries: 10 } });
    await cache.ready();
    const table = new VersionedTable();
    const flusher = cache.writeBehindFlusher({
      blockMs: 100,
      trimInterval: 50,
      sink: (writes) => table.apply(writes),
    });
    await cache.writeBehind('a', 'A');
    await cache.writeBehindDelete('b');
    expect(await cache.getOrSet('a', () => 'loaded')).toBe('A');
    await waitFor(() => table.rows.size === 2, { timeoutMs: 10_000, what: 'two writes flushed' });
    await waitFor(async () => (await flusher.stats()).every((stats) => stats.length === 0), {
      timeoutMs: 10_000,
      what: 'trimmed',
    });
    await flusher.stop();
    await cache.clear();
    await cache.close();
  });
});

describe('write-behind with Redis down (standalone)', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  it('writeBehind and writeBehindDelete reject with RedisUnavailableError: a write is never dropped silently', async () => {
    const cache = new Cache({
      redis: server.client({ commandTimeout: 500 }),
      timeout: 300,
      writeBehind: { partitions: 2 },
    });
    expect(await cache.writeBehind('k', 1)).toBeGreaterThan(0);
    await server.node.kill();
    try {
      for (const call of [() => cache.writeBehind('k', 2), () => cache.writeBehindDelete('k')]) {
        const started = performance.now();
        await expect(call()).rejects.toBeInstanceOf(RedisUnavailableError);
        expect(performance.now() - started).toBeLessThan(3_000);
      }
    } finally {
      await server.node.restart();
    }
    await cache.close();
  });
});

describe.each(['sentinel', 'cluster'] as const)('write-behind across a master failover (%s)', (kind) => {
  let deployment: ReplicatedRedis;
  beforeAll(async () => {
    deployment = await startReplicated(kind);
  });
  afterAll(() => deployment?.stop());

  it('writes retried through the failover all reach the sink: every key ends at its newest acknowledged version', async () => {
    const writeBehind = { partitions: 3 };
    const writer = new Cache({ redis: deployment.client(), namespace: 'fo', writeBehind, timeout: 1_000 });
    const table = new VersionedTable();
    const flusher = new Cache({
      redis: deployment.client(),
      namespace: 'fo',
      writeBehind,
      timeout: 1_000,
    }).writeBehindFlusher({
      group: 'db',
      batch: 50,
      blockMs: 100,
      visibilityTimeout: 1_000,
      claimInterval: 200,
      sink: (w) => table.apply(w),
    });
    await flusher.ready;
    // Per key: the values attempted (a timed-out write may still have been recorded) and the newest acknowledged one.
    const attempted = new Map<string, Set<number>>();
    const acked = new Map<string, { version: number; n: number }>();
    let next = 0;
    let writing = true;
    const produce = async () => {
      while (writing) {
        const n = next++;
        const key = `k${n % 50}`;
        for (;;) {
          attempted.set(key, (attempted.get(key) ?? new Set()).add(n));
          try {
            const version = await writer.writeBehind(key, { n });
            if ((acked.get(key)?.version ?? 0) < version) acked.set(key, { version, n });
            break;
          } catch (error) {
            expect(error).toBeInstanceOf(RedisUnavailableError);
            await sleep(50);
          }
        }
      }
    };
    const producing = Promise.all(Array.from({ length: 8 }, produce));
    await waitFor(() => next > 300, { timeoutMs: 20_000, what: 'writes before the failover' });
    const before = next;
    await deployment.failover(await deployment.masterOf(`fo:{writes-0}:e`), { mode: 'manual' });
    await waitFor(() => next > before + 300, { timeoutMs: 30_000, what: 'writes after the failover' });
    writing = false;
    await producing;
    await waitFor(() => [...acked].every(([key, { version }]) => (table.rows.get(key)?.version ?? 0) >= version), {
      timeoutMs: 30_000,
      what: 'every acknowledged write flushed',
    });
    for (const [key, { version, n }] of acked) {
      const row = table.rows.get(key);
      const value = (row?.value as { n: number } | undefined)?.n ?? -1;
      // The newest acknowledged write, or a newer one that timed out but was recorded.
      if (row?.version === version) expect(value).toBe(n);
      else expect(attempted.get(key)?.has(value)).toBe(true);
    }
    await flusher.stop();
    await writer.close();
  }, 90_000);
});
