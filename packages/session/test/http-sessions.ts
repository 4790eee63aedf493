// The same sessions app on each framework, and the scenarios both framework
// stores must pass, over real HTTP (port 0, Node's fetch, cookies by hand).
import { SessionStore } from '@redkit/session';
import { type StandaloneRedis, startStandalone } from '@redkit/testing';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from './helpers.js';

/** Callback-style calls both framework stores offer. */
export interface AdminStore {
  set(sid: string, session: Record<string, unknown>, callback: (error?: unknown) => void): void;
  all(callback: (error: unknown, sessions?: unknown) => void): void;
  length(callback: (error: unknown, length?: number) => void): void;
  clear(callback?: (error?: unknown) => void): void;
}

/** What the handlers tell the test, and a gate that holds `/slow` until the test opens it. */
export class Probe {
  private openGate: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => {
    this.openGate = resolve;
  });
  private markEntered: () => void = () => {};
  /** Resolves once `/slow`'s handler has the session and waits. */
  readonly entered = new Promise<void>((resolve) => {
    this.markEntered = resolve;
  });

  /** Called by `/slow`'s handler. */
  async hold(): Promise<void> {
    this.markEntered();
    await this.gate;
  }

  open(): void {
    this.openGate();
  }
}

/**
 * The app each framework builds, with the framework's own session
 * middleware over the store under test:
 *   GET  /me                   { sid, userId, count, fields } (null when unset)
 *   POST /count                count += 1
 *   POST /login?user=          regenerates the session, then sets userId
 *   POST /field?name=&value=&delay=   waits `delay` ms after reading the session, then sets one field
 *   POST /slow?name=&value=    like /field, but waits for the probe's gate
 *   POST /logout-everywhere    sessions.destroyAll(userId)
 * Errors answer 500 `{ error }`.
 */
export interface SessionsApp {
  readonly url: string;
  readonly store: AdminStore;
  close(): Promise<void>;
}

export type StartApp = (sessions: SessionStore, probe: Probe) => Promise<SessionsApp>;

/** The session's own fields as `/me` reports them under `fields`. */
export function fieldsOf(session: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(session).filter(([name]) => !['cookie', 'userId', 'count'].includes(name)));
}

/** `/field` and `/slow` set only plain lower-case names (never a method of the framework's session). */
export function fieldName(name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z]{1,20}$/.test(name)) throw new Error(`bad field name ${String(name)}`);
  return name;
}

export interface MeBody {
  sid: string;
  userId: string | null;
  count: number | null;
  fields: Record<string, string>;
}

/** A browser: one cookie jar (the app sets one cookie), kept by hand. */
export class Browser {
  constructor(
    private readonly url: string,
    private cookie: string | undefined = undefined,
  ) {}

  /** Another browser holding this one's cookie as it is now. */
  copy(): Browser {
    return new Browser(this.url, this.cookie);
  }

  async request<Body = Record<string, unknown>>(
    method: 'GET' | 'POST',
    path: string,
  ): Promise<{ status: number; body: Body }> {
    const response = await fetch(this.url + path, {
      method,
      headers: this.cookie === undefined ? {} : { cookie: this.cookie },
      signal: AbortSignal.timeout(10_000),
    });
    for (const header of response.headers.getSetCookie()) {
      const pair = header.split(';', 1)[0] as string;
      const cleared = pair.endsWith('=') || /expires=Thu, 01 Jan 1970/i.test(header);
      this.cookie = cleared ? undefined : pair;
    }
    const text = await response.text();
    return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as Body };
  }

  me(): Promise<MeBody> {
    return this.request<MeBody>('GET', '/me').then(({ status, body }) => {
      expect(status).toBe(200);
      return body;
    });
  }

  async post(path: string): Promise<Record<string, unknown>> {
    const { status, body } = await this.request('POST', path);
    expect(status, JSON.stringify(body)).toBe(200);
    return body;
  }

  async login(user: string): Promise<string> {
    return (await this.post(`/login?user=${encodeURIComponent(user)}`)).sid as string;
  }
}

const promised = <Value>(call: (callback: (error: unknown, value?: Value) => void) => void) =>
  new Promise<Value | undefined>((resolve, reject) =>
    call((error, value) => (error ? reject(error as Error) : resolve(value))),
  );

/** The scenarios, on both topologies, then with Redis down. */
export function describeFrameworkStore(framework: string, start: StartApp): void {
  describeTopologies(`${framework} session store over HTTP`, (t) => {
    let running: SessionsApp[] = [];
    afterEach(async () => {
      await Promise.all(running.map((app) => app.close()));
      running = [];
    });
    const app = async (namespace: string = t.namespace) => {
      const sessions = new SessionStore({ redis: t.redis, namespace, ttl: '10m', absoluteTtl: '1h' });
      const probe = new Probe();
      const started = await start(sessions, probe);
      running.push(started);
      return { ...started, sessions, probe, browser: () => new Browser(started.url) };
    };

    it('login regenerates the session: a new id, the pre-login id no longer works, the user is indexed', async () => {
      const { sessions, browser } = await app();
      const visitor = browser();
      expect(await visitor.post('/count')).toMatchObject({ count: 1 });
      const before = await visitor.me();
      expect(before).toMatchObject({ userId: null, count: 1 });
      const preLogin = visitor.copy();

      const sid = await visitor.login('alice');
      expect(sid).not.toBe(before.sid);
      expect(await visitor.me()).toMatchObject({ sid, userId: 'alice', count: null });
      expect(await sessions.get(before.sid)).toBeNull();
      expect((await sessions.list('alice')).map((session) => session.id)).toEqual([sid]);

      // The pre-login cookie now gets a fresh anonymous session.
      const stale = await preLogin.me();
      expect(stale.sid).not.toBe(before.sid);
      expect(stale.sid).not.toBe(sid);
      expect(stale).toMatchObject({ userId: null, count: null });
    });

    it('keeps state across requests', async () => {
      const { sessions, browser } = await app();
      const user = browser();
      const sid = await user.login('bob');
      for (const expected of [1, 2, 3]) expect(await user.post('/count')).toMatchObject({ count: expected });
      expect(await user.me()).toMatchObject({ sid, userId: 'bob', count: 3 });
      expect((await sessions.get(sid))?.data).toMatchObject({ userId: 'bob', count: 3 });
    });

    it('two concurrent requests changing different fields both keep their change', async () => {
      const { browser } = await app();
      const user = browser();
      const sid = await user.login('carol');
      await user.post('/count');
      // Both read the session before either writes it back.
      await Promise.all([user.post('/field?name=a&value=1&delay=300'), user.post('/field?name=b&value=2&delay=300')]);
      expect(await user.me()).toMatchObject({ sid, userId: 'carol', count: 1, fields: { a: '1', b: '2' } });
    });

    it('log out everywhere: destroyAll logs out every browser, and a request in flight does not bring a session back', async () => {
      const { sessions, probe, browser } = await app();
      const laptop = browser();
      const phone = browser();
      const laptopSid = await laptop.login('dave');
      const phoneSid = await phone.login('dave');
      expect(new Set((await sessions.list('dave')).map((session) => session.id))).toEqual(
        new Set([laptopSid, phoneSid]),
      );

      // The phone's slow request has read its session and will save a change after the logout.
      const slow = phone.post('/slow?name=late&value=1');
      await probe.entered;
      expect(await laptop.post('/logout-everywhere')).toMatchObject({ destroyed: 2 });
      probe.open();
      expect(await slow).toMatchObject({ sid: phoneSid });

      expect(await sessions.get(laptopSid)).toBeNull();
      expect(await sessions.get(phoneSid)).toBeNull();
      expect(await sessions.list('dave')).toEqual([]);
      // Nor can a save from a process that never read the session (nothing to compare with).
      const { store: otherProcess } = await app();
      await promised((callback) => otherProcess.set(laptopSid, { cookie: {}, userId: 'dave', late: '1' }, callback));
      expect(await sessions.get(laptopSid)).toBeNull();
      expect(await sessions.list('dave')).toEqual([]);
      for (const [device, old] of [
        [laptop, laptopSid],
        [phone, phoneSid],
      ] as const) {
        const me = await device.me();
        expect(me.sid).not.toBe(old);
        expect(me).toMatchObject({ userId: null, count: null, fields: {} });
      }
    });

    it('all, length and clear see every session of the namespace (a keyspace scan)', async () => {
      const { store, browser } = await app(`${t.namespace}:admin`);
      const visitors = [browser(), browser(), browser()];
      for (const visitor of visitors) await visitor.post('/count');
      const sids = await Promise.all(visitors.map(async (visitor) => (await visitor.me()).sid));
      await visitors[0]?.login('erin');
      const loggedIn = (await visitors[0]?.me())?.sid as string;

      expect(await promised<number>((callback) => store.length(callback))).toBe(3);
      const all = (await promised<unknown>((callback) => store.all(callback))) as Record<string, unknown>[];
      expect(Array.isArray(all)).toBe(true);
      expect(new Set(all.map((session) => session.id))).toEqual(new Set([loggedIn, sids[1], sids[2]]));
      for (const session of all) expect(session).toHaveProperty('cookie');
      expect(all.find((session) => session.id === loggedIn)).toMatchObject({ userId: 'erin' });
      expect(all.find((session) => session.id === sids[1])).toMatchObject({ count: 1 });

      await promised((callback) => store.clear(callback));
      expect(await promised<number>((callback) => store.length(callback))).toBe(0);
      expect(await promised<unknown>((callback) => store.all(callback))).toEqual([]);
      const after = await visitors[1]?.me();
      expect(after?.sid).not.toBe(sids[1]);
      expect(after).toMatchObject({ userId: null, count: null });
    });
  });

  describe(`${framework} session store with Redis down (standalone)`, () => {
    let server: StandaloneRedis;
    beforeAll(async () => {
      server = await startStandalone();
    });
    afterAll(() => server?.stop());

    it('a request fails with a 5xx within the timeout rather than hanging, and sessions work again after a restart', async () => {
      const sessions = new SessionStore({
        redis: server.client({ commandTimeout: 500 }),
        namespace: 'down',
        timeout: 300,
      });
      const app = await start(sessions, new Probe());
      try {
        const user = new Browser(app.url);
        await user.login('frank');
        await server.node.kill();
        try {
          for (const [method, path] of [
            ['GET', '/me'],
            ['POST', '/count'],
          ] as const) {
            const started = performance.now();
            const { status } = await user.request(method, path);
            expect(status).toBeGreaterThanOrEqual(500);
            // Bounded: the timeout plus scheduling slack on a busy machine, never a hang.
            expect(performance.now() - started).toBeLessThan(3_000);
          }
        } finally {
          await server.node.restart();
        }
        // The restarted server lost the data: the old cookie gets a new session, which works.
        let me: MeBody | undefined;
        for (let attempt = 0; attempt < 50 && me === undefined; attempt++) {
          const response = await user.request<MeBody>('GET', '/me');
          if (response.status === 200) me = response.body;
          else await sleep(100);
        }
        expect(me).toMatchObject({ userId: null });
        expect(await user.post('/count')).toMatchObject({ count: 1 });
      } finally {
        await app.close();
      }
    }, 60_000);
  });
}
