import { defineScript, driverFor, keySlot, RedisUnavailableError, ScriptError } from '@redkit/core';
import { connectWith } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { describe, expect, it } from 'vitest';
import { addCounter, failAlways, sumCounters } from './fixtures/scripts.js';

describe('defineScript', () => {
  it('reads the number of keys from the header and versions the command name', () => {
    expect(addCounter.numberOfKeys).toBe(1);
    expect(addCounter.commandName).toMatch(/^rk_add_counter_[0-9a-f]{8}$/);
    const changed = defineScript('add-counter', `${addCounter.source}\n-- v2`);
    expect(changed.commandName).not.toBe(addCounter.commandName);
  });

  it('marks a variadic last KEYS line', () => {
    expect(sumCounters.variadicKeys).toBe(true);
    expect(sumCounters.numberOfKeys).toBe(1);
    expect(() => defineScript('get-thing', '-- KEYS[1...] a\n-- KEYS[2] b\n-- Reply: x\nreturn 1')).toThrow(
      /only the last KEYS line may be variadic/,
    );
  });

  it('rejects a header without a reply line, gaps in KEYS, and names that are not verb-noun', () => {
    expect(() => defineScript('get-thing', '-- KEYS[1] k\nreturn 1')).toThrow(/no "-- Reply:" line/);
    expect(() => defineScript('get-thing', '-- KEYS[1] a\n-- KEYS[3] c\n-- Reply: x\nreturn 1')).toThrow(
      /KEYS\[3\] where KEYS\[2\] was expected/,
    );
    expect(() => defineScript('thing', '-- Reply: x\nreturn 1')).toThrow(/kebab-case "verb-noun"/);
  });
});

async function noscriptErrors(redis: Parameters<typeof driverFor>[0]): Promise<number> {
  let total = 0;
  for (const master of await driverFor(redis).masters()) {
    const stats = String(await master.command('INFO', ['errorstats']));
    total += Number(/errorstat_NOSCRIPT:count=(\d+)/.exec(stats)?.[1] ?? 0);
  }
  return total;
}

describeTopologies('scripts', (t) => {
  it('runs with its keys and arguments, reading the clock from Redis', async () => {
    const key = `${t.namespace}:{c}:n`;
    const [value, serverMs] = await driverFor(t.redis).script(addCounter, [key], [5]);
    expect(value).toBe(5);
    expect(Math.abs(serverMs - Date.now())).toBeLessThan(5_000);
    expect((await driverFor(t.redis).script(addCounter, [key], [2]))[0]).toBe(7);
  });

  it('recovers from NOSCRIPT after SCRIPT FLUSH on every master', async () => {
    const key = `${t.namespace}:{flush}:n`;
    const db = driverFor(t.redis);
    await db.script(addCounter, [key], [1]);
    const before = await noscriptErrors(t.redis);
    await Promise.all((await db.masters()).map((master) => master.command('SCRIPT', ['FLUSH'])));
    const [value] = await db.script(addCounter, [key], [1]);
    expect(value).toBe(2);
    // The server really answered NOSCRIPT once and the client loaded the script.
    expect(await noscriptErrors(t.redis)).toBe(before + 1);
  });

  it('passes any number of keys to a variadic script, all declared as KEYS', async () => {
    const tag = `${t.namespace}:{many}`;
    const db = driverFor(t.redis);
    expect(await db.script(sumCounters, [`${tag}:total`, `${tag}:a`, `${tag}:b`, `${tag}:c`], [2])).toBe(6);
    expect(await db.script(sumCounters, [`${tag}:total`, `${tag}:a`], [1])).toBe(3);
    await expect(db.script(sumCounters, [], [1])).rejects.toThrow('takes at least 1 keys, got 0');
  });

  it('reports a Lua error as ScriptError with the server message', async () => {
    const call = driverFor(t.redis).script(failAlways, [`${t.namespace}:{x}:k`], []);
    await expect(call).rejects.toBeInstanceOf(ScriptError);
    await expect(call).rejects.toThrow(/rk_fail_always_[0-9a-f]{8} failed: ERR_REDKIT_TEST deliberate failure/);
  });

  it('refuses a call with the wrong number of keys before sending anything', async () => {
    const call = driverFor(t.redis).script(addCounter, [], [1]);
    await expect(call).rejects.toThrow('script add-counter takes 1 keys, got 0');
  });

  it('works with ioredis 5 clients too', async () => {
    const client = connectWith({ Redis: Redis5, Cluster: Cluster5 }, t.url);
    try {
      const key = `${t.namespace}:{v5}:n`;
      const db = driverFor(client as never);
      await db.script(addCounter, [key], [3]);
      await Promise.all((await db.masters()).map((master) => master.command('SCRIPT', ['FLUSH'])));
      expect((await db.script(addCounter, [key], [4]))[0]).toBe(7);
    } finally {
      client.disconnect();
    }
  });
});

describeTopologies('driver', (t) => {
  it('pipelines commands of one slot and reports each error', async () => {
    const key = `${t.namespace}:{p}:k`;
    const replies = await driverFor(t.redis).pipeline([
      ['SET', key, 'abc'],
      ['INCR', key],
      ['GET', key],
    ]);
    expect(replies[0]).toEqual([null, 'OK']);
    expect(replies[1]?.[0]?.name).toBe('RedisCommandError');
    expect(replies[1]?.[0]?.message).toMatch(/INCR failed: ERR value is not an integer/);
    expect(replies[2]).toEqual([null, 'abc']);
  });

  it('lists one driver per master', async () => {
    expect(await driverFor(t.redis).masters()).toHaveLength(t.topology === 'cluster' ? 3 : 1);
  });

  it('publishes to a subscriber connection', async () => {
    const db = driverFor(t.redis);
    const subscriber = db.subscriber();
    try {
      const channel = `${t.namespace}:events`;
      let deliver: (message: string) => void = () => {};
      const received = new Promise<string>((resolve) => {
        deliver = resolve;
      });
      // subscribe() resolves once the server confirmed, so the message cannot be missed.
      await subscriber.subscribe(channel, (message) => deliver(message));
      await db.publish(channel, 'hello');
      expect(await received).toBe('hello');
    } finally {
      await subscriber.close();
    }
  });

  it('maps a reply error of a plain command to RedisCommandError', async () => {
    const key = `${t.namespace}:{w}:k`;
    await driverFor(t.redis).command('SET', [key, 'x']);
    await expect(driverFor(t.redis).command('LPUSH', [key, 'y'])).rejects.toThrow(/LPUSH failed: WRONGTYPE/);
  });

  it('gives a call its own deadline', async () => {
    const db = driverFor(t.redis);
    // A blocking command that outlives its deadline; the deadline wins.
    const call = db.command('BLPOP', [`${t.namespace}:{b}:empty`, 2], { timeoutMs: 100 });
    await expect(call).rejects.toBeInstanceOf(RedisUnavailableError);
    await expect(call).rejects.toThrow(/did not complete within 100ms/);
  });

  it('puts every key of a script call in the slot of its subject', () => {
    expect(keySlot(`${t.namespace}:{s}:a`)).toBe(keySlot(`${t.namespace}:{s}:b`));
  });
});
