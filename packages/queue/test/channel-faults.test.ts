import { Channel, type ChannelEvents, ChannelPattern } from '@redkit/queue';
import { type RedisCluster, type StandaloneRedis, startCluster, startStandalone } from '@redkit/testing';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sleep, waitFor } from './helpers.js';

const schema = z.object({ n: z.number().int() });

/**
 * Publishes numbered messages until every subscriber saw one published after
 * `from`: pub/sub keeps nothing, so a message only proves a live subscription.
 */
async function flowsAgain(channel: Channel<typeof schema>, seen: number[][], from: number, what: string) {
  let n = from;
  await waitFor(
    async () => {
      await channel.publish({ n: n++ }).catch(() => {});
      return seen.every((list) => list.some((value) => value >= from));
    },
    { timeoutMs: 30_000, what },
  );
}

/** Subscribers of a shard channel on every running node (a subscription may sit on a replica of its shard). */
async function shardSubscribers(cluster: RedisCluster, channel: string): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes.filter((candidate) => candidate.running)) {
    const redis = new Redis5(node.port, node.host, { lazyConnect: true });
    try {
      const [, count] = (await redis.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
      total += count;
    } finally {
      redis.disconnect();
    }
  }
  return total;
}

describe('pub/sub across a restart (standalone)', () => {
  let server: StandaloneRedis;
  beforeAll(async () => {
    server = await startStandalone();
  });
  afterAll(() => server?.stop());

  it('the subscriber re-subscribes after the server restarts, reports it, and messages flow again', async () => {
    const channel = new Channel({ redis: server.client(), name: 'restart', schema, timeout: 500 });
    const seen: number[] = [];
    const resubscribed: ChannelEvents['resubscribed'][] = [];
    channel.events.on('resubscribed', (event) => resubscribed.push(event));
    await channel.subscribe((message) => {
      seen.push(message.n);
    });
    await channel.publish({ n: 0 });
    await waitFor(() => seen.length === 1, { timeoutMs: 5_000, what: 'the first message' });
    await server.node.kill();
    await sleep(100);
    await server.node.restart();
    await flowsAgain(channel, [seen], 1_000, 'a message after the restart');
    expect(resubscribed).toEqual([{ mode: 'classic', channels: ['restart'] }]);
    await channel.close();
  }, 40_000);
});

describe('sharded pub/sub across master failovers (cluster)', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(() => cluster?.stop());

  it('subscribers on ioredis 6 and 5 move to the promoted master after a planned failover and after a crash', async () => {
    const publisher = new Channel({ redis: cluster.client(), name: 'fo', schema, timeout: 1_000 });
    expect(await publisher.isSharded()).toBe(true);
    const seed = cluster.nodes[0] as (typeof cluster.nodes)[number];
    const v5 = new Cluster5([{ host: '127.0.0.1', port: seed.port }]);
    const clients = [cluster.client(), v5];
    const seen: number[][] = [[], []];
    const resubscribed: string[] = [];
    const subscribers: Channel<typeof schema>[] = [];
    try {
      for (const [index, redis] of clients.entries()) {
        const channel = new Channel({ redis: redis as never, name: 'fo', schema, timeout: 1_000 });
        subscribers.push(channel);
        channel.events.on('resubscribed', ({ mode }) => resubscribed.push(`${index}:${mode}`));
        await channel.subscribe((message) => {
          seen[index]?.push(message.n);
        });
      }
      expect(await publisher.publish({ n: 0 })).toBe(2);
      await waitFor(() => seen.every((list) => list.length === 1), { timeoutMs: 5_000, what: 'the first message' });

      // Planned: the old master stays up as a replica and drops the subscriptions (unsolicited SUNSUBSCRIBE).
      await cluster.failover(await cluster.masterOf(publisher.redisChannel), { mode: 'manual' });
      await flowsAgain(publisher, seen, 1_000, 'messages after a planned failover');
      expect(resubscribed.sort()).toEqual(['0:sharded', '1:sharded']);

      // A crash: the connections end; the replica is promoted after the node timeout.
      await cluster.failover(await cluster.masterOf(publisher.redisChannel), { mode: 'kill' });
      await flowsAgain(publisher, seen, 2_000, 'messages after a crash');
      expect(resubscribed.length).toBeGreaterThanOrEqual(4);
      // Pub/sub never repeats a message: a stray second subscription would.
      for (const list of seen) expect(new Set(list).size).toBe(list.length);
      // Settles at exactly one server-side subscription per client in the shard: no duplicates, no leftovers.
      await waitFor(async () => (await shardSubscribers(cluster, publisher.redisChannel)) === 2, {
        timeoutMs: 10_000,
        what: '2 subscriptions',
      });
    } finally {
      await Promise.all(subscribers.map((channel) => channel.close()));
      v5.disconnect();
    }
  }, 60_000);

  it('a pattern subscription (classic pub/sub) moves to another node when its node dies', async () => {
    const pattern = new ChannelPattern({ redis: cluster.client(), pattern: 'p.*', schema, timeout: 1_000 });
    const publisher = new Channel({ redis: cluster.client(), name: 'p.1', schema, sharded: false, timeout: 1_000 });
    const seen: number[] = [];
    await pattern.subscribe((message) => {
      seen.push(message.n);
    });
    try {
      await flowsAgain(publisher, [seen], 0, 'the first message');
      // The node ioredis picked for the cluster's subscriber connection.
      let holder: (typeof cluster.nodes)[number] | undefined;
      for (const node of cluster.nodes.filter((candidate) => candidate.running)) {
        const redis = new Redis5(node.port, node.host, { lazyConnect: true });
        try {
          if (Number(await redis.call('PUBSUB', 'NUMPAT')) > 0) holder = node;
        } finally {
          redis.disconnect();
        }
      }
      if (!holder) throw new Error('no node holds the pattern subscription');
      const masters = await cluster.masters();
      if (masters.includes(holder)) {
        await cluster.failover(holder, { mode: 'kill' });
      } else {
        await holder.kill();
        await holder.restart();
      }
      await flowsAgain(publisher, [seen], 1_000, 'messages after the node died');
    } finally {
      await pattern.close();
    }
  }, 60_000);
});
