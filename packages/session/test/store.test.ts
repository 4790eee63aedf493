import { SessionStore } from '@redkit/session';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keysOf, sleep } from './helpers.js';

const profile = z.object({
  name: z.string(),
  cart: z.array(z.string()).default([]),
  theme: z.enum(['light', 'dark']).optional(),
});

describeTopologies('session store', (t) => {
  const store = (options: { ttl?: number; absoluteTtl?: number } = {}) =>
    new SessionStore({ redis: t.redis, namespace: t.namespace, schema: profile, ...options });

  it('creates a session with a random URL-safe id and reads it back typed', async () => {
    const sessions = store();
    const created = await sessions.create('alice', { name: 'Alice' });
    expect(created.id).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(created).toMatchObject({ userId: 'alice', version: 1, data: { name: 'Alice', cart: [] } });
    // The deadline is set when the session is indexed, just before it is written (on a cluster, by another master's clock).
    expect(Math.abs(created.absoluteExpiresAt - created.createdAt - sessions.absoluteTtl)).toBeLessThan(1_000);
    const read = await sessions.get(created.id);
    expect(read).toMatchObject({ id: created.id, userId: 'alice', version: 1, data: { name: 'Alice', cart: [] } });
    expect(read?.createdAt).toBe(created.createdAt);
    const other = await sessions.create('alice', { name: 'Alice' });
    expect(other.id).not.toBe(created.id);
  });

  it('unknown, malformed and destroyed ids read as no session', async () => {
    const sessions = store();
    expect(await sessions.get('A'.repeat(40))).toBeNull();
    expect(await sessions.get('short')).toBeNull();
    expect(await sessions.get('x'.repeat(300))).toBeNull();
    const { id } = await sessions.create('bob', { name: 'Bob' });
    expect(await sessions.destroy(id)).toBe(true);
    expect(await sessions.get(id)).toBeNull();
    expect(await sessions.destroy(id)).toBe(false);
    expect(await sessions.touch(id)).toBe(false);
    expect(await sessions.update(id, { theme: 'dark' })).toEqual({ status: 'missing' });
  });

  it('update sets and deletes single fields, bumps the version, and reports conflicts', async () => {
    const sessions = store();
    const { id } = await sessions.create('carol', { name: 'Carol', theme: 'light' });
    expect(await sessions.update(id, { cart: ['sku-1'] })).toEqual({ status: 'updated', version: 2 });
    expect(await sessions.update(id, { theme: undefined })).toEqual({ status: 'updated', version: 3 });
    expect((await sessions.get(id))?.data).toEqual({ name: 'Carol', cart: ['sku-1'] });
    // A writer that read version 3 wins; one still holding version 2 is told, and writes nothing.
    expect(await sessions.update(id, { name: 'C' }, { version: 3 })).toEqual({ status: 'updated', version: 4 });
    expect(await sessions.update(id, { name: 'stale' }, { version: 3 })).toEqual({ status: 'conflict', version: 4 });
    expect((await sessions.get(id))?.data.name).toBe('C');
  });

  it('idle expiry: a session ends when unused for ttl, and touch (or get with touch) extends it', async () => {
    const sessions = store({ ttl: 600, absoluteTtl: 60_000 });
    const idle = await sessions.create('dave', { name: 'Dave' });
    const touched = await sessions.create('dave', { name: 'Dave' });
    const read = await sessions.create('dave', { name: 'Dave' });
    for (let i = 0; i < 6; i++) {
      await sleep(200);
      expect(await sessions.touch(touched.id)).toBe(true);
      expect(await sessions.get(read.id, { touch: true })).not.toBeNull();
    }
    // 1.2 s have passed: twice the idle timeout.
    expect(await sessions.get(idle.id)).toBeNull();
    expect(await sessions.get(touched.id)).not.toBeNull();
    expect(await sessions.get(read.id)).not.toBeNull();
    // A plain get does not renew.
    await sleep(800);
    expect(await sessions.get(read.id)).toBeNull();
  });

  it('absolute expiry: a session touched continuously still ends at its deadline', async () => {
    const sessions = store({ ttl: 500, absoluteTtl: 1_500 });
    const { id, absoluteExpiresAt, createdAt } = await sessions.create('erin', { name: 'Erin' });
    expect(Math.abs(absoluteExpiresAt - createdAt - 1_500)).toBeLessThan(1_000);
    const started = Date.now();
    let alive = true;
    while (alive && Date.now() - started < 4_000) {
      await sleep(100);
      alive = (await sessions.get(id, { touch: true })) !== null;
      if (alive) await sessions.update(id, { cart: [String(Date.now())] });
    }
    const lived = Date.now() - started;
    expect(alive).toBe(false);
    // Ended near its deadline (server clock), never later than deadline + one poll and scheduling slack.
    expect(lived).toBeGreaterThan(1_200);
    expect(lived).toBeLessThan(2_500);
    expect(await sessions.touch(id)).toBe(false);
    expect(await sessions.update(id, { name: 'again' })).toEqual({ status: 'missing' });
  });

  it('expiresAt never passes the absolute deadline', async () => {
    const sessions = store({ ttl: 10_000, absoluteTtl: 12_000 });
    const { id } = await sessions.create('fay', { name: 'Fay' });
    await sleep(3_000);
    const session = await sessions.get(id, { touch: true });
    expect(session).not.toBeNull();
    expect(session?.expiresAt).toBeLessThanOrEqual((session?.absoluteExpiresAt ?? 0) + 50);
  });

  it('rotate moves data, user and deadline to a new id; the old id is dead for good', async () => {
    const sessions = store();
    const before = await sessions.create('gus', { name: 'Gus', cart: ['a'] });
    const rotated = await sessions.rotate(before.id);
    expect(rotated).not.toBeNull();
    expect(rotated?.id).not.toBe(before.id);
    expect(rotated?.id.slice(0, 8)).toBe(before.id.slice(0, 8));
    expect(rotated).toMatchObject({
      userId: 'gus',
      createdAt: before.createdAt,
      absoluteExpiresAt: before.absoluteExpiresAt,
    });
    expect(await sessions.get(before.id)).toBeNull();
    expect((await sessions.get(rotated?.id as string))?.data).toEqual({ name: 'Gus', cart: ['a'] });
    // The old id cannot be written back by a late request.
    expect(await sessions.put(before.id, { name: 'late' }, { userId: 'gus' })).toBe('destroyed');
    expect((await sessions.list('gus')).map((s) => s.id)).toEqual([rotated?.id]);
    expect(await sessions.rotate(before.id)).toBeNull();
  });

  it('list shows a user’s live sessions and stays right after some expired on their own', async () => {
    const sessions = store({ ttl: 700, absoluteTtl: 60_000 });
    const keep = await sessions.create('hal', { name: 'Hal' });
    const lapse = await sessions.create('hal', { name: 'Hal' });
    const gone = await sessions.create('hal', { name: 'Hal' });
    await sessions.create('ida', { name: 'Ida' });
    await sessions.destroy(gone.id);
    expect((await sessions.list('hal')).map((s) => s.id).sort()).toEqual([keep.id, lapse.id].sort());
    for (let i = 0; i < 5; i++) {
      await sleep(250);
      await sessions.touch(keep.id);
    }
    const listed = await sessions.list('hal');
    expect(listed.map((s) => s.id)).toEqual([keep.id]);
    expect(listed[0]).toMatchObject({ userId: 'hal', createdAt: keep.createdAt, version: 1 });
    expect(await sessions.list('nobody')).toEqual([]);
  });

  it('destroyAll removes every session of the user, leaves other users alone', async () => {
    const sessions = store();
    const mine = await Promise.all(Array.from({ length: 25 }, () => sessions.create('jo', { name: 'Jo' })));
    const theirs = await sessions.create('kim', { name: 'Kim' });
    expect(await sessions.destroyAll('jo')).toBe(25);
    for (const { id } of mine) expect(await sessions.get(id)).toBeNull();
    expect(await sessions.list('jo')).toEqual([]);
    expect(await sessions.get(theirs.id)).not.toBeNull();
    // Nothing of jo's is left but tombstones (which expire).
    const left = (await keysOf(t.redis, t.namespace)).filter((key) => !key.includes(':x:'));
    expect(left.filter((key) => key.includes('{jo}'))).toEqual([]);
    expect(await sessions.destroyAll('jo')).toBe(0);
  });

  it('data that no longer matches the schema reads as no session and is reported', async () => {
    const loose = new SessionStore({ redis: t.redis, namespace: t.namespace });
    const strict = store();
    const { id } = await loose.create('lee', { name: 42 });
    const reported: string[] = [];
    strict.events.on('invalid-data', ({ error }) => reported.push(error));
    expect(await strict.get(id)).toBeNull();
    expect(reported).toHaveLength(1);
    expect(await loose.get(id)).toMatchObject({ data: { name: 42 } });
  });

  it('getFields gives each field as stored; put with previousFields writes only what changed', async () => {
    const sessions = new SessionStore({ redis: t.redis, namespace: t.namespace, ttl: 900 });
    const id = 'express-generated-id-fields-0001';
    expect(await sessions.put(id, { views: 1, cart: ['x'] }, { userId: null })).toBe('written');
    const read = await sessions.getFields(id);
    expect(read).toMatchObject({
      userId: null,
      data: { views: 1, cart: ['x'] },
      fields: { views: '1', cart: '["x"]' },
    });
    const fields = read?.fields as Record<string, string>;
    // Two requests read the same session; each changes a different field (one mutates nested data in place).
    const data = read?.data as { views: number; cart: string[] };
    data.cart.push('y');
    expect(await sessions.put(id, data, { userId: null, previousFields: fields })).toBe('written');
    expect(await sessions.put(id, { views: 2, cart: ['x'] }, { userId: null, previousFields: fields })).toBe('written');
    expect((await sessions.getFields(id))?.data).toEqual({ views: 2, cart: ['x', 'y'] });
    // An ended session is no key: the plain read needs no script to tell.
    await sleep(1_000);
    expect(await sessions.getFields(id)).toBeNull();
    expect(await sessions.get(id)).toBeNull();
  });

  it('put creates, merges only changed fields, and never brings back a destroyed or expired id', async () => {
    const sessions = new SessionStore({ redis: t.redis, namespace: t.namespace, ttl: 800 });
    const id = 'express-generated-id-0123456789';
    expect(await sessions.put(id, { views: 1 }, { userId: null })).toBe('written');
    const first = await sessions.get(id);
    expect(first).toMatchObject({ userId: null, data: { views: 1 } });
    // Two requests read the same session; each changes a different field.
    const previous = first?.data as Record<string, unknown>;
    expect(await sessions.put(id, { ...previous, a: 1 }, { userId: null, previous })).toBe('written');
    expect(await sessions.put(id, { ...previous, b: 2 }, { userId: null, previous })).toBe('written');
    expect((await sessions.get(id))?.data).toEqual({ views: 1, a: 1, b: 2 });
    // Login: the session gains a user, and is listed for that user.
    expect(await sessions.put(id, { views: 2 }, { userId: 'mo' })).toBe('written');
    expect((await sessions.get(id))?.data).toEqual({ views: 2 });
    expect((await sessions.list('mo')).map((s) => s.id)).toEqual([id]);
    await sleep(1_000);
    expect(await sessions.put(id, { views: 3 }, { userId: 'mo', previous: { views: 2 } })).toBe('missing');
    expect(await sessions.get(id)).toBeNull();
    await sessions.put(id, { views: 1 }, { userId: 'mo' });
    await sessions.destroyAll('mo');
    expect(await sessions.put(id, { views: 9 }, { userId: 'mo' })).toBe('destroyed');
    expect(await sessions.get(id)).toBeNull();
  });

  it('scanIds finds every session id of the namespace', async () => {
    const namespace = `${t.namespace}:scan`;
    const sessions = new SessionStore({ redis: t.redis, namespace });
    const ids = new Set<string>();
    for (let i = 0; i < 30; i++) ids.add((await sessions.create(`u${i % 4}`, { i })).id);
    await sessions.put('weird:{id}%with-escapes', { x: 1 }, { userId: null });
    ids.add('weird:{id}%with-escapes');
    const found = new Set<string>();
    for await (const batch of sessions.scanIds()) for (const id of batch) found.add(id);
    expect(found).toEqual(ids);
  });
});

describe('session ids', () => {
  it('carry at least 192 random bits after the tag and never repeat', async () => {
    const { newSessionId } = await import('../src/session-id.js');
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(newSessionId(24));
    expect(seen.size).toBe(10_000);
    const characters = new Set([...seen].join(''));
    expect(characters.size).toBe(64);
  });
});
