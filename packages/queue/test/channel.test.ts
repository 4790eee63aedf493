import { driverFor, InvalidOptionsError, RedisCommandError, RedisUnavailableError } from '@redkit/core';
import { Channel, type ChannelEvents, ChannelPattern, errors } from '@redkit/queue';
import { connectWith, createAclUser } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from './helpers.js';

const order = z.object({ id: z.string(), total: z.number().nonnegative() });
type Order = z.output<typeof order>;

/** Publishes `probe` until the subscriber saw it: a subscription is live once one message went through. */
async function collect<T>(into: T[], publish: () => Promise<unknown>, seen: (items: T[]) => boolean, what: string) {
  await publish();
  await waitFor(() => seen(into), { timeoutMs: 5_000, what });
}

describeTopologies('Channel', (t) => {
  it('typed messages round-trip in order; sharded on the cluster, classic on a standalone server', async () => {
    const channel = new Channel({ redis: t.redis, namespace: t.namespace, name: 'orders', schema: order });
    expect(await channel.isSharded()).toBe(t.topology === 'cluster');
    expect(channel.redisChannel).toBe(`${t.namespace}:{orders}`);
    const received: { order: Order; channel: string }[] = [];
    const subscription = await channel.subscribe((message, context) => {
      received.push({ order: message, channel: context.channel });
    });
    const published: ChannelEvents['published'][] = [];
    channel.events.on('published', (event) => published.push(event));
    for (let n = 0; n < 5; n++) expect(await channel.publish({ id: `o${n}`, total: n })).toBe(1);
    await waitFor(() => received.length === 5, { timeoutMs: 5_000, what: '5 messages' });
    expect(received).toEqual(
      Array.from({ length: 5 }, (_, n) => ({ order: { id: `o${n}`, total: n }, channel: 'orders' })),
    );
    expect(published.map((event) => event.receivers)).toEqual([1, 1, 1, 1, 1]);
    await subscription.unsubscribe();
    expect(await channel.publish({ id: 'late', total: 1 })).toBe(0);
    await channel.close();
  });

  it('an invalid message is refused on publish, naming the field, and nothing is sent', async () => {
    const channel = new Channel({ redis: t.redis, namespace: t.namespace, name: 'strict', schema: order });
    const received: Order[] = [];
    await channel.subscribe((message) => {
      received.push(message);
    });
    const error = await channel.publish({ id: 'x', total: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect(error).toBeInstanceOf(errors.InvalidMessageError);
    expect((error as InvalidOptionsError).message).toMatch(/message\.total/);
    // @ts-expect-error id is missing
    await expect(channel.publish({ total: 1 })).rejects.toThrow(/message\.id/);
    await expect(channel.publish({ id: 'c', total: 1n } as never)).rejects.toThrow(/message\.total/);
    await channel.publish({ id: 'ok', total: 1 });
    await waitFor(() => received.length === 1, { timeoutMs: 5_000, what: 'the valid message' });
    expect(received).toEqual([{ id: 'ok', total: 1 }]);
    await channel.close();
  });

  it('invalid payloads on receipt are reported and skipped; a throwing handler does not stop the subscription', async () => {
    const channel = new Channel({ redis: t.redis, namespace: t.namespace, name: 'rx', schema: order });
    const invalid: ChannelEvents['invalid'][] = [];
    const handlerErrors: ChannelEvents['handler-error'][] = [];
    channel.events.on('invalid', (event) => invalid.push(event));
    channel.events.on('handler-error', (event) => handlerErrors.push(event));
    const received: string[] = [];
    await channel.subscribe(async (message) => {
      received.push(message.id);
      if (message.id === 'boom') throw new Error('handler failed');
    });
    const raw = (payload: string) =>
      driverFor(t.redis).command(t.topology === 'cluster' ? 'SPUBLISH' : 'PUBLISH', [channel.redisChannel, payload]);
    await raw('not json');
    await raw(JSON.stringify({ id: 'a', total: 'lots' }));
    await channel.publish({ id: 'boom', total: 1 });
    await channel.publish({ id: 'after', total: 2 });
    await waitFor(() => received.length === 2 && handlerErrors.length === 1, {
      timeoutMs: 5_000,
      what: 'the valid messages',
    });
    expect(received).toEqual(['boom', 'after']);
    expect(invalid.map((event) => event.channel)).toEqual(['rx', 'rx']);
    expect(invalid[0]?.error).toMatch(/not JSON/);
    expect(invalid[1]?.error).toMatch(/message\.total/);
    expect(invalid[1]?.payload).toBe('{"id":"a","total":"lots"}');
    expect(handlerErrors).toEqual([{ channel: 'rx', error: 'handler failed' }]);
    await channel.close();
  });

  it('several handlers on one client share its subscriber connection; each unsubscribes on its own', async () => {
    const redis = t.client();
    const a = new Channel({ redis, namespace: t.namespace, name: 'shared-a' });
    const b = new Channel({ redis, namespace: t.namespace, name: 'shared-b' });
    const got: string[] = [];
    const first = await a.subscribe((message) => {
      got.push(`1:${String(message)}`);
    });
    await a.subscribe((message) => {
      got.push(`2:${String(message)}`);
    });
    await b.subscribe((message) => {
      got.push(`b:${String(message)}`);
    });
    await collect(
      got,
      () => a.publish('x'),
      (items) => items.length === 2,
      'both handlers',
    );
    await collect(
      got,
      () => b.publish('y'),
      (items) => items.length === 3,
      'channel b',
    );
    expect(got.sort()).toEqual(['1:x', '2:x', 'b:y']);
    // Two handlers on one channel are one server-side subscription.
    expect(await a.publish('z')).toBe(1);
    await first.unsubscribe();
    await first.unsubscribe();
    await collect(
      got,
      () => a.publish('w'),
      (items) => items.includes('2:w'),
      'the remaining handler',
    );
    expect(got).not.toContain('1:w');
    await Promise.all([a.close(), b.close()]);
    expect(await a.publish('gone')).toBe(0);
    expect(await b.publish('gone')).toBe(0);
  });

  it('a pattern receives the classic channels whose names match, with the name that matched', async () => {
    const pattern = new ChannelPattern({ redis: t.redis, namespace: t.namespace, pattern: 'orders.*', schema: order });
    const got: string[] = [];
    await pattern.subscribe((message, { channel }) => {
      got.push(`${channel}=${message.id}`);
    });
    const eu = new Channel({
      redis: t.redis,
      namespace: t.namespace,
      name: 'orders.eu',
      schema: order,
      sharded: false,
    });
    const us = new Channel({
      redis: t.redis,
      namespace: t.namespace,
      name: 'orders.us',
      schema: order,
      sharded: false,
    });
    const other = new Channel({
      redis: t.redis,
      namespace: t.namespace,
      name: 'payments',
      schema: order,
      sharded: false,
    });
    expect(await eu.isSharded()).toBe(false);
    await other.publish({ id: 'p', total: 1 });
    await eu.publish({ id: 'e', total: 1 });
    await us.publish({ id: 'u', total: 1 });
    await waitFor(() => got.length === 2, { timeoutMs: 5_000, what: 'two matching messages' });
    // Sorted: on a cluster the two publishes go out through different nodes and the cluster bus,
    // so Redis does not promise their order at the subscriber's node.
    expect([...got].sort()).toEqual(['orders.eu=e', 'orders.us=u']);
    await pattern.close();
  });

  it('works as a least-privilege ACL user with exactly the documented pub/sub commands and channels', async () => {
    const user = await createAclUser(t.redis, {
      commands: [
        'publish',
        'subscribe',
        'unsubscribe',
        'psubscribe',
        'punsubscribe',
        'spublish',
        'ssubscribe',
        'sunsubscribe',
      ],
      keys: [],
      // PSUBSCRIBE needs its pattern listed literally.
      channels: [`${t.namespace}:*`, `${t.namespace}:{acl-*}`],
    });
    try {
      const redis = t.client({ username: user.username, password: user.password });
      const channel = new Channel({ redis, namespace: t.namespace, name: 'acl', schema: order });
      const pattern = new ChannelPattern({ redis, namespace: t.namespace, pattern: 'acl-*', schema: order });
      const classic = new Channel({
        redis,
        namespace: t.namespace,
        name: 'acl-classic',
        schema: order,
        sharded: false,
      });
      const got: string[] = [];
      await channel.subscribe((message) => {
        got.push(message.id);
      });
      await pattern.subscribe((message, context) => {
        got.push(`${context.channel}:${message.id}`);
      });
      await channel.publish({ id: 'a', total: 1 });
      await classic.publish({ id: 'b', total: 1 });
      await waitFor(() => got.length === 2, { timeoutMs: 5_000, what: 'both messages' });
      expect(got.sort()).toEqual(['a', 'acl-classic:b']);
      await Promise.all([channel.close(), pattern.close()]);
      // Channels outside the namespace are refused by the server.
      const outside = new Channel({ redis, namespace: 'elsewhere', name: 'x' });
      await expect(outside.publish('x')).rejects.toThrow(RedisCommandError);
      await expect(outside.subscribe(() => {})).rejects.toThrow(/NOPERM/);
    } finally {
      await user.remove();
    }
  });

  it('many publishers and subscribers at once over channels on every master: each subscriber gets each message exactly once', async () => {
    const names = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
    const schema = z.object({ from: z.number().int(), n: z.number().int() });
    const subscribers = [0, 1, 2].map(() => t.client());
    const received = subscribers.map(() => new Map<string, number>());
    const channels: Channel<typeof schema>[] = [];
    await Promise.all(
      subscribers.flatMap((redis, index) =>
        names.map(async (name) => {
          const channel = new Channel({ redis, namespace: t.namespace, name, schema });
          channels.push(channel);
          await channel.subscribe((message, context) => {
            const key = `${context.channel}/${message.from}/${message.n}`;
            received[index]?.set(key, (received[index]?.get(key) ?? 0) + 1);
          });
        }),
      ),
    );
    const publishers = [0, 1, 2, 3].map(() => t.client());
    await Promise.all(
      publishers.map(async (redis, from) => {
        const byName = names.map((name) => new Channel({ redis, namespace: t.namespace, name, schema }));
        for (let n = 0; n < 10; n++) {
          await Promise.all(byName.map(async (channel) => expect(await channel.publish({ from, n })).toBe(3)));
        }
      }),
    );
    const total = names.length * publishers.length * 10;
    await waitFor(() => received.every((map) => map.size === total), {
      timeoutMs: 10_000,
      what: `${total} messages per subscriber`,
    });
    for (const map of received) expect([...map.values()].every((count) => count === 1)).toBe(true);
    await Promise.all(channels.map((channel) => channel.close()));
  });

  it('works with ioredis 5 clients too', async () => {
    const client = connectWith({ Redis: Redis5, Cluster: Cluster5 }, t.url);
    try {
      const channel = new Channel({ redis: client as never, namespace: t.namespace, name: 'v5', schema: order });
      const got: string[] = [];
      await channel.subscribe((message) => {
        got.push(message.id);
      });
      expect(await channel.publish({ id: 'five', total: 5 })).toBe(1);
      await waitFor(() => got.length === 1, { timeoutMs: 5_000, what: 'the message' });
      expect(got).toEqual(['five']);
      await channel.close();
    } finally {
      client.disconnect();
    }
  });
});

describe('Channel options', () => {
  const redis = new Redis5({ lazyConnect: true });

  it.each([
    [{ name: '' }, 'name'],
    [{ name: 'a\nb' }, 'name'],
    [{ name: 'x', namespace: 'bad ns' }, 'namespace'],
    [{ name: 'x', schema: 'nope' }, 'schema'],
    [{ name: 'x', sharded: 'yes' }, 'sharded'],
    [{ name: 'x', timeout: -1 }, 'timeout'],
    [{ name: 'x', extra: 1 }, 'extra'],
  ])('%o → InvalidOptionsError naming %s', (input, field) => {
    const error = (() => {
      try {
        new Channel({ redis: redis as never, ...(input as { name: string }) });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain(field);
  });

  it('rejects a client that is not ioredis, a missing pattern and a handler that is not a function', async () => {
    expect(() => new Channel({ redis: {} as never, name: 'x' })).toThrow(/redis/);
    expect(() => new ChannelPattern({ redis: redis as never } as never)).toThrow(/pattern/);
    const channel = new Channel({ redis: redis as never, name: 'x', sharded: false });
    await expect(channel.subscribe('nope' as never)).rejects.toThrow(/handler/);
    redis.disconnect();
  });
});

describe('Channel when Redis is unreachable', () => {
  it('publish and subscribe fail with RedisUnavailableError within the timeout', async () => {
    const redis = new Redis5({ port: 1, lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
    redis.on('error', () => {});
    try {
      const channel = new Channel({ redis: redis as never, name: 'down', timeout: 200 });
      await expect(channel.publish('x')).rejects.toBeInstanceOf(RedisUnavailableError);
      await expect(channel.subscribe(() => {})).rejects.toBeInstanceOf(RedisUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
});
