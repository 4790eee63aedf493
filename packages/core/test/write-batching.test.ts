import type { Writable } from 'node:stream';
import { defineScript, driverFor, isCluster, type RedisConnection } from '@redkit/core';
import { describeTopologies } from '@redkit/testing/vitest';
import type { Redis } from 'ioredis';
import { expect, it } from 'vitest';

const incrementBy = defineScript<number>(
  'increment-counter',
  '-- KEYS[1] counter\n-- ARGV[1] step\n-- Reply: the new value\nreturn redis.call("INCRBY", KEYS[1], ARGV[1])',
);

/** The client's server connections (every node of a cluster). */
function nodesOf(redis: RedisConnection): Redis[] {
  return isCluster(redis) ? redis.nodes('all') : [redis];
}

/**
 * Counts the writes each socket hands to the kernel (Node calls `_write` for
 * one buffered chunk, `_writev` for several) while `work` runs.
 */
async function socketWrites<T>(redis: RedisConnection, work: () => Promise<T>): Promise<{ result: T; writes: number }> {
  let writes = 0;
  const restore: (() => void)[] = [];
  for (const node of nodesOf(redis)) {
    const stream = (node as unknown as { stream: Writable & Record<'_write' | '_writev', unknown> }).stream;
    for (const method of ['_write', '_writev'] as const) {
      const original = stream[method] as ((...args: unknown[]) => unknown) | undefined;
      if (typeof original !== 'function') continue;
      stream[method] = function (this: unknown, ...args: unknown[]) {
        writes++;
        return original.apply(this, args);
      };
      restore.push(() => {
        delete (stream as Record<string, unknown>)[method];
      });
    }
  }
  try {
    return { result: await work(), writes };
  } finally {
    for (const undo of restore) undo();
  }
}

describeTopologies('write batching', (t) => {
  it('sends the commands of one tick in writes of 16 per connection, answered in order', async () => {
    const db = driverFor(t.redis);
    const key = `${t.namespace}:{batch}:n`;
    await db.command('SET', [key, 0]);
    const { result, writes } = await socketWrites(t.redis, () =>
      Promise.all(Array.from({ length: 200 }, (_, index) => db.command<number>('INCRBY', [key, index + 1]))),
    );
    // One slot, so one connection: 200 commands in writes of 16 (ceil(200 / 16)); the replies in the order sent.
    expect(writes).toBe(13);
    expect(result).toEqual(Array.from({ length: 200 }, (_, index) => ((index + 1) * (index + 2)) / 2));
  });

  it('mixes commands, scripts and pipelines over many slots in one tick, each answered', async () => {
    const db = driverFor(t.redis);
    const keys = Array.from({ length: 60 }, (_, index) => `${t.namespace}:{mix-${index}}:n`);
    const { result, writes } = await socketWrites(t.redis, () =>
      Promise.all(
        keys.map((key, index) => {
          if (index % 3 === 0) return db.command<number>('INCRBY', [key, index]);
          if (index % 3 === 1) return db.script(incrementBy, [key], [index]);
          return db.pipeline([['INCRBY', key, index]]).then((replies) => replies[0]?.[1] as number);
        }),
      ),
    );
    expect(result).toEqual(keys.map((_, index) => index));
    // 60 commands, then the EVALs of the 20 scripts a server had not loaded yet (after NOSCRIPT): each
    // batch goes out every 16 commands and at the tick's end, one write per master it reached, so at most
    // (ceil(60 / 16) + 1 + ceil(20 / 16) + 1) writes per master, where one write per command makes 80.
    const masters = (await db.masters()).length;
    expect(writes).toBeLessThanOrEqual(8 * masters);
  });

  it('holds nothing across ticks: awaited one by one, every command still goes out', async () => {
    const db = driverFor(t.redis);
    const key = `${t.namespace}:{serial}:n`;
    for (let index = 1; index <= 20; index++) expect(await db.command<number>('INCR', [key])).toBe(index);
    // A command sent from a timer, outside any promise chain of the driver.
    const fromTimer = await new Promise<number>((resolve, reject) => {
      setTimeout(() => db.command<number>('INCR', [key]).then(resolve, reject), 1);
    });
    expect(fromTimer).toBe(21);
  });
});
