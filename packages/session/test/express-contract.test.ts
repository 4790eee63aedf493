// express-session's Store contract, as its docs and MemoryStore define it and
// connect-redis users rely on it, over real HTTP on express 5 and 4, on both
// topologies: cookie expiry, touch storing the cookie, get returning what
// was saved, any id, promises and callbacks, the admin calls on a cluster.
import { randomBytes } from 'node:crypto';
import { keySlot } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import { RedkitSessionStore } from '@redkit/session/express';
import { describeTopologies } from '@redkit/testing/vitest';
import type { Cluster } from 'ioredis';
import superjson from 'superjson';
import { afterEach, describe, expect, it } from 'vitest';
import { expressMajors, startExpressApp } from './express-app.js';
import { keysOf } from './helpers.js';
import { Browser, Probe } from './http-sessions.js';

const newId = () => randomBytes(12).toString('base64url');

describeTopologies('express-session Store contract', (t) => {
  const sessionKeys = async (namespace = t.namespace) =>
    (await keysOf(t.redis, namespace)).filter((key) => key.includes('}:s:'));
  const pttlOf = async (sid: string, namespace = t.namespace) => {
    const [key] = (await sessionKeys(namespace)).filter((name) => name.endsWith(`:s:${sid}`));
    return key === undefined ? -2 : t.redis.pttl(key);
  };

  for (const major of expressMajors) {
    describe(major.name, () => {
      const running: { close(): Promise<void> }[] = [];
      afterEach(async () => {
        await Promise.all(running.splice(0).map((app) => app.close()));
      });
      const start = async (
        options: { store?: RedkitSessionStore; cookie?: Record<string, unknown>; genid?: () => string } = {},
      ) => {
        const probe = new Probe();
        const store =
          options.store ??
          new RedkitSessionStore({
            store: new SessionStore({ redis: t.redis, namespace: t.namespace, ttl: '10m', absoluteTtl: '1h' }),
          });
        const app = await startExpressApp({ express: major.load(), store, probe, ...options });
        running.push(app);
        return { store, probe, browser: () => new Browser(app.url) };
      };

      it('a session lives until its cookie expires: the key’s time to live is the cookie’s maxAge', async () => {
        const { browser } = await start({ cookie: { maxAge: 5_000 } });
        const user = browser();
        const { sid } = await user.post('/set?name=a&value=1');
        const pttl = await pttlOf(sid as string);
        // Not the store's 10-minute idle timeout: the cookie's 5 s (minus the request's own time).
        expect(pttl).toBeGreaterThan(3_000);
        expect(pttl).toBeLessThanOrEqual(5_000);
      });

      it('bounded by the idle timeout when the cookie lives longer', async () => {
        const store = new RedkitSessionStore({
          store: new SessionStore({ redis: t.redis, namespace: t.namespace, ttl: '3s', absoluteTtl: '1h' }),
        });
        const { browser } = await start({ store, cookie: { maxAge: 3_600_000 } });
        const { sid } = await browser().post('/set?name=a&value=1');
        const pttl = await pttlOf(sid as string);
        expect(pttl).toBeGreaterThan(1_000);
        expect(pttl).toBeLessThanOrEqual(3_000);
      });

      it('a session whose cookie has expired is not kept: saving it destroys it', async () => {
        const { store, browser } = await start();
        const user = browser();
        const { sid } = await user.post('/set?name=a&value=1');
        expect(await store.get(sid as string)).toMatchObject({ a: '1' });
        await user.post('/expire');
        expect(await store.get(sid as string)).toBeNull();
        expect(await pttlOf(sid as string)).toBe(-2);
        // And a save of an already expired cookie writes no session.
        const fresh = newId();
        await store.set(fresh, { cookie: { expires: new Date(Date.now() - 1).toISOString() }, a: 1 });
        expect(await store.get(fresh)).toBeNull();
        expect((await sessionKeys()).filter((key) => key.endsWith(fresh))).toEqual([]);
      });

      it('touch stores the cookie (its new expiry) and renews the time to live to match', async () => {
        const { store, browser } = await start({ cookie: { maxAge: 5_000 } });
        const user = browser();
        const { sid } = await user.post('/set?name=a&value=1');
        const saved = (await store.get(sid as string)) as { cookie: { originalMaxAge: number; expires: string } };
        // express-session computes originalMaxAge from the expiry it just set: 5000, or 4999 when a millisecond ticked.
        expect(saved.cookie.originalMaxAge).toBeGreaterThan(4_990);
        expect(saved.cookie.originalMaxAge).toBeLessThanOrEqual(5_000);
        // Only the cookie changes: express-session calls touch, not set.
        await user.post('/cookie?maxAge=120000');
        const touched = (await store.get(sid as string)) as {
          a: string;
          cookie: { originalMaxAge: number; expires: string };
        };
        expect(touched.a).toBe('1');
        expect(touched.cookie.originalMaxAge).toBe(120_000);
        expect(Date.parse(touched.cookie.expires) - Date.now()).toBeGreaterThan(110_000);
        const pttl = await pttlOf(sid as string);
        expect(pttl).toBeGreaterThan(110_000);
        expect(pttl).toBeLessThanOrEqual(120_000);
      });

      it('get returns exactly what was saved, inventing nothing (no cookie when none was saved)', async () => {
        const { store } = await start();
        const sid = newId();
        const saved = { a: 1, list: [1, 'two', { three: null }], nested: { deep: { value: true } }, text: 'é{}:%' };
        await store.set(sid, saved);
        expect(await store.get(sid)).toStrictEqual(saved);
        const withCookie = {
          ...saved,
          cookie: {
            originalMaxAge: 1_000,
            expires: new Date(Date.now() + 1_000).toISOString(),
            path: '/',
            httpOnly: true,
          },
        };
        const other = newId();
        await store.set(other, withCookie);
        expect(await store.get(other)).toStrictEqual(withCookie);
        expect(await store.get(newId())).toBeNull();
      });

      it('short ids (and ids with key syntax) from genid work', async () => {
        let next = 0;
        const prefix = randomBytes(2).toString('hex');
        const ids = [`${prefix}`.slice(0, 1), `${prefix}:{}`, `${prefix}%2`, `${prefix}*?`];
        const { store, browser } = await start({ genid: () => ids[next++ % ids.length] as string });
        for (const id of ids) {
          const user = browser();
          const { sid } = await user.post('/set?name=a&value=1');
          expect(sid).toBe(id);
          expect(await user.post('/set?name=b&value=2')).toMatchObject({ sid: id });
          expect((await user.me()) as unknown).toMatchObject({ sid: id, fields: { a: '1', b: '2' } });
          expect(await store.get(id)).toMatchObject({ a: '1', b: '2' });
        }
      });

      it('callbacks and promises: every method takes a callback, or returns a Promise without one', async () => {
        const namespace = `${t.namespace}:cb-${major.name.replace(' ', '')}`;
        const store = new RedkitSessionStore({ redis: t.redis, prefix: `${namespace}:` });
        const sid = newId();
        const callback = <Value>(call: (done: (error: unknown, value?: Value) => void) => void) =>
          new Promise<Value | undefined>((resolve, reject) =>
            call((error, value) => (error ? reject(error as Error) : resolve(value))),
          );
        expect(await callback((done) => store.set(sid, { n: 1 }, done))).toBeUndefined();
        expect(await callback((done) => store.get(sid, done))).toEqual({ n: 1 });
        expect(await store.get(sid)).toEqual({ n: 1 });
        await store.set(sid, { n: 2 });
        await store.touch(sid, { n: 2 });
        expect(await callback((done) => store.touch(sid, { n: 2 }, done))).toBeUndefined();
        expect(await store.ids()).toEqual([sid]);
        expect(await callback((done) => store.ids(done))).toEqual([sid]);
        expect(await store.length()).toBe(1);
        expect(await callback((done) => store.length(done))).toBe(1);
        expect(await store.all()).toEqual([{ n: 2, id: sid }]);
        expect(await callback((done) => store.all(done))).toEqual([{ n: 2, id: sid }]);
        expect(await store.destroy(sid)).toBeUndefined();
        expect(await store.get(sid)).toBeNull();
        await store.set(newId(), { n: 3 });
        expect(await callback((done) => store.clear(done))).toBeUndefined();
        expect(await store.length()).toBe(0);
        // A callback-style call returns nothing (express-session ignores it; a Promise would go unhandled).
        expect(store.get(sid, () => undefined)).toBeUndefined();
      });

      it('all, ids, length and clear see every session on every master; clear lets no request in flight save one back', async () => {
        const namespace = `${t.namespace}:admin-${major.name.replace(' ', '')}`;
        const store = new RedkitSessionStore({ client: t.redis, prefix: namespace });
        const { probe, browser } = await start({ store });
        const sids = Array.from({ length: 40 }, newId);
        await Promise.all(sids.map((sid, i) => store.set(sid, { i })));
        const user = browser();
        const { sid: live } = await user.post('/set?name=a&value=1');
        sids.push(live as string);

        expect(new Set(await store.ids())).toEqual(new Set(sids));
        expect(await store.ids()).toHaveLength(sids.length);
        expect(await store.length()).toBe(sids.length);
        const all = await store.all<{ i?: number; a?: string }>();
        expect(all).toHaveLength(sids.length);
        for (const session of all) {
          expect(session).toEqual(
            session.id === live ? expect.objectContaining({ a: '1' }) : { i: sids.indexOf(session.id), id: session.id },
          );
        }
        if (t.topology === 'cluster') {
          // The ids spread over the masters: the calls above scanned them all.
          const slots = (t.redis as Cluster).slots;
          const masters = new Set((await sessionKeys(namespace)).map((key) => slots[keySlot(key)]?.[0]));
          expect(masters.size).toBeGreaterThan(1);
        }

        // A request has read its session and will save a change after the clear.
        const slow = user.post('/slow?name=late&value=1');
        await probe.entered;
        await store.clear();
        probe.open();
        await slow;
        expect(await store.length()).toBe(0);
        expect(await store.all()).toEqual([]);
        expect(await sessionKeys(namespace)).toEqual([]);
        expect(await store.get(live as string)).toBeNull();
      });

      it('a request that ends after a logout in another request does not save the session back, and says so', async () => {
        const sessions = new SessionStore({ redis: t.redis, namespace: t.namespace, ttl: '10m', absoluteTtl: '1h' });
        const refused: string[] = [];
        sessions.events.on('write-refused', ({ reason }) => refused.push(reason));
        const { probe, browser } = await start({ store: new RedkitSessionStore({ store: sessions }) });
        const tab = browser();
        const { sid } = await tab.post('/set?name=a&value=1');
        const otherTab = tab.copy();
        const slow = tab.post('/slow?name=late&value=1');
        await probe.entered;
        await otherTab.post('/logout');
        probe.open();
        await slow;
        expect(refused).toEqual(['destroyed']);
        expect(await sessions.get(sid as string)).toBeNull();
        expect(await pttlOf(sid as string)).toBe(-2);
      });

      it('connect-redis options: prefix, ttl as a function, disableTouch, a serializer', async () => {
        const namespace = `${t.namespace}:cr-${major.name.replace(' ', '')}`;
        const store = new RedkitSessionStore({
          redis: t.redis,
          prefix: `${namespace}:`,
          ttl: (session) => (session.short ? 2 : 100),
          disableTouch: true,
          serializer: superjson,
        });
        const sid = newId();
        const at = new Date('2025-01-02T03:04:05.006Z');
        await store.set(sid, { short: true, at, tags: new Set(['x']), big: 10n ** 20n });
        expect((await sessionKeys(namespace)).every((key) => key.startsWith(`${namespace}:{`))).toBe(true);
        const pttl = await pttlOf(sid, namespace);
        expect(pttl).toBeGreaterThan(0);
        expect(pttl).toBeLessThanOrEqual(2_000);
        const read = (await store.get(sid)) as { at: Date; tags: Set<string>; big: bigint };
        expect(read.at).toEqual(at);
        expect(read.tags).toEqual(new Set(['x']));
        expect(read.big).toBe(10n ** 20n);
        // disableTouch: touch changes nothing, not even the time to live.
        await store.touch(sid, { short: false, cookie: { expires: new Date(Date.now() + 100_000) } });
        expect(await pttlOf(sid, namespace)).toBeLessThanOrEqual(2_000);
        expect(((await store.get(sid)) as { cookie?: unknown }).cookie).toBeUndefined();
      });

      it('with a serializer, two concurrent requests that change different fields both keep their change', async () => {
        const namespace = `${t.namespace}:sj-${major.name.replace(' ', '')}`;
        const store = new RedkitSessionStore({ redis: t.redis, prefix: namespace, serializer: superjson });
        const { probe, browser } = await start({ store });
        const user = browser();
        const { sid } = await user.post('/set?name=a&value=1');
        const slow = user.post('/slow?name=b&value=2');
        await probe.entered;
        await user.post('/set?name=c&value=3');
        probe.open();
        await slow;
        expect(await store.get(sid as string)).toMatchObject({ a: '1', b: '2', c: '3' });
      });
    });
  }
});
