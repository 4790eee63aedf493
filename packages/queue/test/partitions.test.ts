import { InvalidOptionsError, keySlot } from '@redkit/core';
import { partitionOf, partitionStreams, StreamQueue } from '@redkit/queue';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from './helpers.js';

describeTopologies('partitions', (t) => {
  it('one key always maps to one partition; keys spread over all of them', () => {
    expect(partitionStreams('orders', 3)).toEqual(['orders-0', 'orders-1', 'orders-2']);
    // FNV-1a 32 of "a" is 0xe40c292c: fixed, so producers in any process agree.
    expect(partitionOf('a', 65_536)).toBe(0xe40c292c % 65_536);
    const counts = [0, 0, 0, 0];
    for (let n = 0; n < 4_000; n++) {
      const partition = partitionOf(`order-${n}`, 4);
      expect(partitionOf(`order-${n}`, 4)).toBe(partition);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    for (const count of counts) expect(count).toBeGreaterThan(800);
    expect(() => partitionOf('a', 0)).toThrow(InvalidOptionsError);
    expect(() => partitionOf('a', 1.5)).toThrow('count');
    expect(() => partitionStreams('', 2)).toThrow('name');
  });

  it('a partitioned queue: each key stays in order within its partition, all messages consumed', async () => {
    const schema = z.object({ key: z.string(), seq: z.number() });
    const streams = partitionStreams('orders', 4);
    const queues = streams.map((stream) => new StreamQueue({ redis: t.redis, namespace: t.namespace, stream, schema }));
    // The partitions' keys land in different slots (so, on a cluster, on several masters).
    expect(new Set(queues.map((queue) => keySlot(queue.keys.stream))).size).toBe(4);
    for (let seq = 0; seq < 50; seq++) {
      for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) await queues[partitionOf(key, 4)]?.add({ key, seq });
    }
    const seen = new Map<string, number[]>();
    const consumers = queues.map((queue) =>
      queue.consume(
        (message) => {
          seen.set(message.key, [...(seen.get(message.key) ?? []), message.seq]);
        },
        { group: 'g', blockMs: 50 },
      ),
    );
    await waitFor(() => [...seen.values()].reduce((sum, list) => sum + list.length, 0) === 300, {
      timeoutMs: 10_000,
      what: '300',
    });
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    for (const list of seen.values()) expect(list).toEqual(Array.from({ length: 50 }, (_, seq) => seq));
  });
});
