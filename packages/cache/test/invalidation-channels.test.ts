import { Cache } from '@redkit/cache';
import type { RedisConnection } from '@redkit/core';
import { hubFor } from '@redkit/queue';
import { type RedisCluster, startCluster } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextEvent, sleep } from './helpers.js';

/** Reads `key` on `cache` until it returns `expected` (its memory tier dropped the old value), or gives up after `ms`. */
async function seesValue(cache: Cache, key: string, expected: unknown, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if ((await cache.get(key).catch(() => undefined)) === expected) return true;
    await sleep(5);
  }
  return false;
}

/** Resolves with the next read of `key` on `cache` that is served from memory. */
async function memoryHit(cache: Cache, key: string): Promise<unknown> {
  for (let i = 0; i < 400; i++) {
    const hit = nextEvent(cache.events, 'hit', { matches: (h) => h.key === key, timeoutMs: 1_000 });
    const value = await cache.get(key).catch(() => undefined);
    if ((await hit.catch(() => undefined))?.tier === 'memory') return value;
    await sleep(10);
  }
  throw new Error(`no memory hit of ${key}`);
}

/** Messages on the classic channel up to a marker published after them from `entryKey`'s master. */
async function classicMessages(raw: RedisConnection, marker: RedisConnection, channel: string, entryKey: string) {
  const seen: string[] = [];
  const done = new Promise<void>((resolve) => {
    raw.on('message', (on: string, message: string) => {
      if (on !== channel) return;
      if (message === 'x|0|marker') resolve();
      else seen.push(message);
    });
  });
  return {
    seen,
    /** Publishes the marker on the node that made the write, so it comes after any message of that write. */
    async flush(): Promise<string[]> {
      await marker.eval("redis.call('PUBLISH', ARGV[1], ARGV[2])", 1, entryKey, channel, 'x|0|marker');
      await done;
      return seen;
    },
  };
}

describeTopologies('invalidation channels', (t) => {
  it('a write reaches the other memory tiers; on a cluster it travels on a shard channel, not the classic one', async () => {
    const [a, b] = [0, 1].map(
      () => new Cache({ redis: t.client(), namespace: `${t.namespace}:ch`, ttl: '1m', l1: { maxEntries: 100 } }),
    ) as [Cache, Cache];
    await Promise.all([a.ready(), b.ready()]);
    const raw = t.client();
    const channel = `${t.namespace}:ch:invalidations`;
    await raw.subscribe(channel);
    const classic = await classicMessages(raw, t.client(), channel, `${t.namespace}:ch:{k}:e`);
    await a.set('k', 'v1');
    expect(await memoryHit(b, 'k')).toBe('v1');
    await a.set('k', 'v2');
    // Without the invalidation b keeps v1 in memory for its whole ttl (a minute).
    expect(await seesValue(b, 'k', 'v2', 5_000)).toBe(true);
    const messages = await classic.flush();
    if (t.topology === 'cluster') expect(messages).toEqual([]);
    else expect(messages.filter((message) => message.startsWith('k|'))).toHaveLength(2);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('invalidations across failovers of the shard channel’s master (cluster)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(() => cluster?.stop());

  it('after a planned failover and after a crash, every subscriber’s memory tier still drops a written key', async () => {
    const namespace = 'fo';
    const writer = new Cache({ redis: cluster.client(), namespace, ttl: '1m', timeout: 1_000 });
    const clients = [cluster.client(), cluster.client()];
    const readers = clients.map(
      (redis) => new Cache({ redis, namespace, ttl: '1m', l1: { maxEntries: 100 }, timeout: 1_000 }),
    );
    await Promise.all(readers.map((reader) => reader.ready()));
    const entryKey = `${namespace}:{k}:e`;
    let round = 0;
    // Right after a failover the writer's slot map may still name the old
    // master's channels, and then the script falls back to the classic channel
    // (slower, never lost); what must hold there is that every reader drops the key.
    const writeAndCheck = async (expectShardOnly: boolean) => {
      round++;
      const old = `v${round}`;
      const next = `v${round}.next`;
      // Retried: right after a crash the promoted master may still be settling.
      await retry(() => writer.set('k', old));
      for (const reader of readers) expect(await memoryHit(reader, 'k')).toBe(old);
      const raw = cluster.client();
      // Retried: a cluster client's subscriber connection is replaced while its first slot refresh settles.
      await retry(() => raw.subscribe(`${namespace}:invalidations`));
      const classic = await classicMessages(raw, cluster.client(), `${namespace}:invalidations`, entryKey);
      await retry(() => writer.set('k', next));
      for (const reader of readers) expect(await seesValue(reader, 'k', next, 5_000)).toBe(true);
      // Both readers heard it on the shard channel: the classic fallback was not needed.
      const fallbacks = await classic.flush();
      if (expectShardOnly) expect(fallbacks).toEqual([]);
    };
    try {
      await writeAndCheck(true);
      for (const mode of ['manual', 'kill'] as const) {
        // Each reader's hub moves its shard subscriptions to the promoted master and reports it.
        const moved = clients.map(
          (redis) =>
            new Promise<void>((resolve) => {
              const off = hubFor(redis, 1_000).onResubscribe((kind) => {
                if (kind !== 'sharded') return;
                off();
                resolve();
              });
            }),
        );
        await cluster.failover(await cluster.masterOf(entryKey), { mode });
        await Promise.all(moved);
        await writeAndCheck(false);
      }
    } finally {
      await Promise.all([writer.close(), ...readers.map((reader) => reader.close())]);
    }
  }, 90_000);
});

async function retry(run: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run();
      return;
    } catch (error) {
      if (attempt >= 40) throw error;
      await sleep(250);
    }
  }
}
