import { InvalidOptionsError, Keyspace, keySlot } from '@redkit/core';
import { mastersOf, slotRange, spreadTags, tagSlot } from '@redkit/hotkeys';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';

describe('spreadTags', () => {
  it('tag i lands in slot range i, with the smallest suffix that does', () => {
    for (const [base, count] of [
      ['views', 6],
      ['product:42', 3],
      ['a{b}c', 7],
      ['x', 64],
    ] as const) {
      const tags = spreadTags(base, count);
      expect(tags).toHaveLength(count);
      const suffixes = tags.map((tag) => {
        expect(tag.startsWith(`${base}#`)).toBe(true);
        return Number(tag.slice(base.length + 1));
      });
      tags.forEach((tag, index) => {
        const [first, end] = slotRange(index, count);
        expect(tagSlot(tag)).toBeGreaterThanOrEqual(first);
        expect(tagSlot(tag)).toBeLessThan(end);
        // No smaller suffix lands in this range.
        for (let j = 0; j < (suffixes[index] as number); j++) {
          const slot = tagSlot(`${base}#${j}`);
          expect(slot >= first && slot < end, `${base}#${j}`).toBe(false);
        }
      });
    }
  });

  it('the slot is that of the key a Keyspace builds from the tag', () => {
    const keys = new Keyspace('ns');
    for (const tag of spreadTags('a:b{c}%', 5)) expect(keySlot(keys.key(tag, 'c'))).toBe(tagSlot(tag));
  });

  it('ranges cover every slot once and nest in the ranges of fewer masters', () => {
    for (const count of [1, 3, 5, 6, 7, 1024]) {
      let next = 0;
      for (let index = 0; index < count; index++) {
        const [first, end] = slotRange(index, count);
        expect(first).toBe(next);
        expect(end).toBeGreaterThan(first);
        next = end;
      }
      expect(next).toBe(16_384);
    }
    // As redis-cli --cluster create assigns 3 masters: 0-5460, 5461-10922, 10923-16383.
    expect([0, 1, 2].map((index) => slotRange(index, 3))).toEqual([
      [0, 5461],
      [5461, 10923],
      [10923, 16384],
    ]);
    for (let index = 0; index < 6; index++) {
      const [first, end] = slotRange(index, 6);
      const master = slotRange(Math.floor(index / 2), 3);
      expect(first).toBeGreaterThanOrEqual(master[0]);
      expect(end).toBeLessThanOrEqual(master[1]);
    }
  });

  it('is deterministic and cached', () => {
    const tags = spreadTags('stable', 12);
    expect(spreadTags('stable', 12)).toBe(tags);
    expect(Object.isFrozen(tags)).toBe(true);
    expect(spreadTags('stable', 12)).toEqual([...tags]);
  });

  it('bad input throws InvalidOptionsError naming the argument', () => {
    for (const [base, count, field] of [
      ['', 3, 'base'],
      [42, 3, 'base'],
      ['x', 0, 'count'],
      ['x', 1.5, 'count'],
      ['x', 1025, 'count'],
    ] as const) {
      const error = (() => {
        try {
          spreadTags(base as string, count);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues.map((issue) => issue.path)).toEqual([field]);
    }
  });
});

describeTopologies('mastersOf', (t) => {
  it('spreadTags(x, 6) puts 2 keys on each of 3 masters; spreadTags(x, 3) one on each', async () => {
    const keys = new Keyspace(t.namespace);
    for (const base of ['views', 'product:42', 'anything']) {
      const six = await mastersOf(
        t.redis,
        spreadTags(base, 6).map((tag) => keys.key(tag, 'c')),
      );
      const three = await mastersOf(
        t.redis,
        spreadTags(base, 3).map((tag) => keys.key(tag, 'c')),
      );
      if (t.topology === 'cluster') {
        const counts = new Map<string, number>();
        for (const master of six) counts.set(master, (counts.get(master) ?? 0) + 1);
        expect([...counts.values()]).toEqual([2, 2, 2]);
        expect(new Set(three).size).toBe(3);
        // Consecutive pairs share a master: range 2i and 2i+1 nest in master range i.
        expect(six[0]).toBe(six[1]);
        expect(six[2]).toBe(six[3]);
        expect(six[4]).toBe(six[5]);
        expect(three).toEqual([six[0], six[2], six[4]]);
      } else {
        expect(new Set([...six, ...three]).size).toBe(1);
      }
    }
  });

  it('matches the node that really serves the key', async () => {
    const keys = spreadTags('served', 6).map((tag) => `${t.namespace}:{${tag}}:c`);
    const masters = await mastersOf(t.redis, keys);
    if (t.topology !== 'cluster') return;
    const redis = t.redis as import('ioredis').Cluster;
    for (const [index, key] of keys.entries()) {
      const node = redis.nodes('master').find((candidate) => {
        const { host, port } = candidate.options;
        return `${host}:${port}` === masters[index];
      });
      expect(node, key).toBeDefined();
      // The node answers for the key itself instead of redirecting (no MOVED).
      await expect(node?.call('GET', key)).resolves.toBeNull();
    }
  });
});
