import { HotKeyDetector, mastersOf, ShardedCounter, spreadTags } from '@redkit/hotkeys';
import { leastPrivilegeContract } from '@redkit/testing/contracts';
import { expect } from 'vitest';

/** The commands listed in docs/hot-keys.md under "ACL commands". */
const commands = ['incrby', 'pexpire', 'wait', 'get', 'mget', 'del'];

leastPrivilegeContract({
  name: 'hotkeys',
  commands,
  run: async (redis, t) => {
    const counter = new ShardedCounter({ redis, namespace: t.namespace, name: 'acl', shards: 6, ttl: '1m' });
    await counter.increment(3);
    await counter.increment();
    expect(await counter.value()).toBe(4);
    if (t.replicas > 0) {
      const replicated = new ShardedCounter({
        redis,
        namespace: t.namespace,
        name: 'acl-wait',
        waitForReplicas: 1,
      });
      await replicated.increment();
      expect(await replicated.value()).toBe(1);
      await replicated.reset();
    }
    expect(await mastersOf(redis, spreadTags('acl', 3))).toHaveLength(3);
    await counter.reset();
    expect(await counter.value()).toBe(0);
    // The detector is in process: it sends nothing.
    const detector = new HotKeyDetector({ threshold: 1 });
    detector.record('a');
    expect(detector.isHot('a')).toBe(true);
  },
});
