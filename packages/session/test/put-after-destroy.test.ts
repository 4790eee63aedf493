// A save that compares with what its request read (put with `previous`, the
// call the framework stores make when a request ends) must be refused as
// 'destroyed' when the session was destroyed meanwhile, and say so.
import { SessionStore } from '@redkit/session';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';

describeTopologies('put with previous after the session was destroyed', (t) => {
  const setUp = async () => {
    const sessions = new SessionStore({ redis: t.redis, namespace: t.namespace });
    const refused: string[] = [];
    sessions.events.on('write-refused', ({ reason }) => refused.push(reason));
    const id = `request-read-${Math.random().toString(36).slice(2)}`;
    expect(await sessions.put(id, { cart: ['a'] }, { userId: 'nia' })).toBe('written');
    const previous = (await sessions.get(id))?.data as Record<string, unknown>;
    return { sessions, refused, id, previous };
  };

  it('after a logout (destroy): destroyed, a write-refused event, nothing written', async () => {
    const { sessions, refused, id, previous } = await setUp();
    expect(await sessions.destroy(id)).toBe(true);
    expect(await sessions.put(id, { cart: ['a', 'b'] }, { userId: 'nia', previous })).toBe('destroyed');
    expect(refused).toEqual(['destroyed']);
    expect(await sessions.get(id)).toBeNull();
    expect(await sessions.list('nia')).toEqual([]);
  });

  it('after log out everywhere (destroyAll): destroyed, a write-refused event, nothing written', async () => {
    const { sessions, refused, id, previous } = await setUp();
    expect(await sessions.destroyAll('nia')).toBe(1);
    expect(await sessions.put(id, { cart: [] }, { userId: 'nia', previous })).toBe('destroyed');
    expect(refused).toEqual(['destroyed']);
    expect(await sessions.get(id)).toBeNull();
  });

  it('an id that merely does not exist is still missing, without an event', async () => {
    const { sessions, refused } = await setUp();
    expect(await sessions.put('never-written-id', { a: 1 }, { userId: null, previous: { a: 0 } })).toBe('missing');
    expect(refused).toEqual([]);
  });
});
