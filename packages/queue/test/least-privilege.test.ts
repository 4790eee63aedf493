import { StreamQueue } from '@redkit/queue';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';
import { z } from 'zod';
import { sleep, waitFor } from './helpers.js';

/** The commands listed in the queue README under "ACL". */
const commands = [
  'evalsha',
  'eval',
  'time',
  'get',
  'set',
  'xadd',
  'xgroup|create',
  'xgroup|delconsumer',
  'xreadgroup',
  'xack',
  'xpending',
  'xrange',
  'xclaim',
  'xautoclaim',
  'xlen',
  'xdel',
  'xrevrange',
  'xtrim',
  'xinfo|groups',
  'exists',
  'del',
  'zadd',
  'zrangebyscore',
  'zrange',
  'zcard',
  'zrem',
  'hset',
  'hget',
  'hdel',
];

leastPrivilegeContract({
  name: 'queue',
  commands,
  run: async (redis, t) => {
    const errors: string[] = [];
    const queue = new StreamQueue({
      redis,
      namespace: t.namespace,
      stream: 'acl',
      schema: z.object({ n: z.number() }),
    });
    queue.events.on('error', ({ step, error }) => errors.push(`${step}: ${error}`));
    await queue.add({ n: 1 }, { idempotencyKey: 'k' });
    expect((await queue.add({ n: 1 }, { idempotencyKey: 'k' })).duplicate).toBe(true);
    await queue.addMany([{ n: 2 }, { n: 3 }]);
    const attempts = new Map<number, number>();
    const consumer = queue.consume(
      async (message, context) => {
        attempts.set(message.n, context.attempt);
        if (message.n === 2 && context.attempt === 1) throw new Error('retry me');
        if (message.n === 3) throw new Error('dead');
        // A slow handler gets heartbeats.
        if (message.n === 1) await sleep(150);
      },
      {
        group: 'g',
        blockMs: 50,
        concurrency: 3,
        maxDeliveries: 1,
        backoff: { initial: 10, max: 10 },
        promoteInterval: 50,
        visibilityTimeout: 60,
        claimInterval: 20,
      },
    );
    await waitFor(async () => (await queue.deadLetters.count()) >= 1, { timeoutMs: 10_000, what: 'a dead letter' });
    const [letter] = await queue.deadLetters.list();
    expect(await queue.deadLetters.replay(letter?.id as string)).not.toBeNull();
    await waitFor(async () => (await queue.deadLetters.count()) >= 1, {
      timeoutMs: 10_000,
      what: 'the replayed message to die again',
    });
    expect(await queue.deadLetters.purge()).toBeGreaterThanOrEqual(1);
    expect((await queue.stats()).groups.map((group) => group.name)).toEqual(['g']);
    expect(await queue.trim({ maxLen: 0, maxAge: '1h' })).toBeGreaterThanOrEqual(0);
    await consumer.stop();
    expect(errors).toEqual([]);
  },
});
