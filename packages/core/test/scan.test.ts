import { driverFor, Keyspace, scanAll } from '@redkit/core';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';

describeTopologies('scanAll', (t) => {
  it('finds every key of a namespace on every master, and nothing else', async () => {
    const keys = new Keyspace(`${t.namespace}:scan`);
    const other = new Keyspace(`${t.namespace}:other`);
    const written = Array.from({ length: 300 }, (_, index) => keys.key(`subject-${index}`, 'v'));
    const db = driverFor(t.redis);
    await Promise.all(written.map((key) => db.command('SET', [key, '1'])));
    await db.command('SET', [other.key('x'), '1']);

    const found: string[] = [];
    for await (const batch of scanAll(t.redis, keys.pattern(), { count: 50 })) found.push(...batch);

    expect(found.sort()).toEqual([...written].sort());
    if (t.topology === 'cluster') {
      // The keys really were spread: every master held some of them.
      const perMaster = await Promise.all(
        (await db.masters()).map(async (master) => {
          let count = 0;
          for await (const batch of scanAll(master, keys.pattern())) count += batch.length;
          return count;
        }),
      );
      expect(perMaster).toHaveLength(3);
      expect(perMaster.every((count) => count > 0)).toBe(true);
    }
  });
});
