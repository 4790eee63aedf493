import { HotKeyDetector, mastersOf, ShardedCounter, spreadTags } from '@redkit/hotkeys';
import { createAclUser } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';

/** The commands listed in docs/hot-keys.md under "ACL commands". */
const commands = ['incrby', 'pexpire', 'wait', 'get', 'mget', 'del'];

describeTopologies('hotkeys as a least-privilege ACL user', (t) => {
  it('every operation works with exactly the documented commands and keys', async () => {
    const user = await createAclUser(t.redis, { commands, keys: [`${t.namespace}:*`], channels: [] });
    const redis = t.client({ username: user.username, password: user.password });
    try {
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
    } finally {
      await user.remove();
    }
  });
});
