// A destroyed id's tombstone lives as long as the session could still have
// lived: at least 10 minutes (requests in flight), at most one idle timeout.
import { SessionStore } from '@redkit/session';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { keysOf } from './helpers.js';

const minute = 60_000;

describeTopologies('session tombstones', (t) => {
  const tombstonePttl = async (id: string) => {
    const [key] = (await keysOf(t.redis, t.namespace)).filter((name) => name.endsWith(`:x:${id}`));
    return key === undefined ? -2 : t.redis.pttl(key);
  };
  const destroyed = async (sessions: SessionStore, id: string, ttl?: number) => {
    expect(await sessions.put(id, { a: 1 }, { userId: null, ...(ttl ? { ttl } : {}) })).toBe('written');
    expect(await sessions.destroy(id)).toBe(true);
    return tombstonePttl(id);
  };

  it('as long as the session had left to live', async () => {
    const sessions = new SessionStore({ redis: t.redis, namespace: t.namespace, ttl: '1d', absoluteTtl: '2d' });
    const pttl = await destroyed(sessions, 'long-lived', 90 * minute);
    expect(pttl).toBeGreaterThan(89 * minute);
    expect(pttl).toBeLessThanOrEqual(90 * minute);
  });

  it('at least 10 minutes, for a session that had less left', async () => {
    const sessions = new SessionStore({ redis: t.redis, namespace: t.namespace, ttl: '1d', absoluteTtl: '2d' });
    const pttl = await destroyed(sessions, 'short-lived', 2_000);
    expect(pttl).toBeGreaterThan(9 * minute);
    expect(pttl).toBeLessThanOrEqual(10 * minute);
    // An id that had no session gets the same floor (a create may be between indexing and writing).
    await sessions.destroy('never-written');
    expect(await tombstonePttl('never-written')).toBeGreaterThan(9 * minute);
  });

  it('at most one idle timeout', async () => {
    const sessions = new SessionStore({ redis: t.redis, namespace: t.namespace, ttl: '2m', absoluteTtl: '1h' });
    const pttl = await destroyed(sessions, 'idle-capped');
    expect(pttl).toBeGreaterThan(minute);
    expect(pttl).toBeLessThanOrEqual(2 * minute);
  });
});
