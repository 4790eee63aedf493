import { Leaderboard } from '@redkit/leaderboard';
import { describeTopologies } from '@redkit/testing/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

describeTopologies('reads', (t) => {
  const schema = z.object({ country: z.string() });
  // 20 members: m01 scores 200 … m20 scores 10 (every score distinct).
  const lb = new Leaderboard({ redis: t.redis, namespace: t.namespace, name: 'twenty', metadata: schema });
  const members = Array.from({ length: 20 }, (_, i) => `m${String(i + 1).padStart(2, '0')}`);
  beforeAll(async () => {
    for (const [i, member] of members.entries()) {
      await lb.submit(member, 200 - 10 * i, { metadata: { country: i % 2 ? 'FR' : 'DE' } });
    }
  });
  const names = (entries: { member: string }[] | null) => entries?.map((entry) => entry.member) ?? null;

  describe('around', () => {
    it('in the middle: the member with radius entries on each side', async () => {
      const entries = await lb.around('m10', 2);
      expect(names(entries)).toEqual(['m08', 'm09', 'm10', 'm11', 'm12']);
      expect(entries?.map((entry) => entry.rank)).toEqual([8, 9, 10, 11, 12]);
      expect(entries?.[2]).toEqual({ member: 'm10', score: 110, rank: 10, metadata: { country: 'FR' } });
    });

    it('at the top edge: the window shifts down and keeps its size', async () => {
      expect(names(await lb.around('m01', 2))).toEqual(['m01', 'm02', 'm03', 'm04', 'm05']);
      expect(names(await lb.around('m02', 2))).toEqual(['m01', 'm02', 'm03', 'm04', 'm05']);
      expect(names(await lb.around('m03', 2))).toEqual(['m01', 'm02', 'm03', 'm04', 'm05']);
      expect(names(await lb.around('m04', 2))).toEqual(['m02', 'm03', 'm04', 'm05', 'm06']);
    });

    it('at the bottom edge: the window shifts up and keeps its size', async () => {
      expect(names(await lb.around('m20', 2))).toEqual(['m16', 'm17', 'm18', 'm19', 'm20']);
      expect(names(await lb.around('m19', 2))).toEqual(['m16', 'm17', 'm18', 'm19', 'm20']);
      expect(names(await lb.around('m17', 2))).toEqual(['m15', 'm16', 'm17', 'm18', 'm19']);
    });

    it('a window larger than the board returns the whole board; radius 0 the member alone', async () => {
      expect(names(await lb.around('m05', 15))).toEqual(members);
      expect(await lb.around('m05', 0)).toEqual([{ member: 'm05', score: 160, rank: 5, metadata: { country: 'DE' } }]);
    });

    it('an absent member gives null', async () => {
      expect(await lb.around('nobody', 3)).toBeNull();
    });
  });

  it('top and page, with pages past the end empty', async () => {
    expect(names(await lb.top(3))).toEqual(['m01', 'm02', 'm03']);
    expect(names(await lb.top(1000))).toEqual(members);
    expect(names(await lb.page(0, 6))).toEqual(members.slice(0, 6));
    expect(names(await lb.page(3, 6))).toEqual(members.slice(18, 20));
    expect(await lb.page(4, 6)).toEqual([]);
    const page = await lb.page(1, 5);
    expect(page.map((entry) => entry.rank)).toEqual([6, 7, 8, 9, 10]);
  });

  it('rank, score, entry, percentile and count; null for absent members', async () => {
    expect(await lb.rank('m07')).toBe(7);
    expect(await lb.score('m07')).toBe(140);
    expect(await lb.entry('m07', { metadata: false })).toEqual({ member: 'm07', score: 140, rank: 7 });
    expect(await lb.count()).toBe(20);
    // m01 beats 19 of 20: (19 + 0.5) / 20; m20 beats nobody: 0.5 / 20.
    expect(await lb.percentile('m01')).toBeCloseTo(97.5, 10);
    expect(await lb.percentile('m20')).toBeCloseTo(2.5, 10);
    for (const read of [lb.rank('x'), lb.score('x'), lb.entry('x'), lb.percentile('x')]) expect(await read).toBeNull();
  });

  it('an empty board reads as empty', async () => {
    const empty = new Leaderboard({ redis: t.redis, namespace: t.namespace, name: 'empty' });
    expect(await empty.top(10)).toEqual([]);
    expect(await empty.count()).toBe(0);
    expect(await empty.around('x', 2)).toBeNull();
  });
});
