import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '@redkit/core';
import { RedkitSessionStore } from '@redkit/session/express';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { Cluster } from 'ioredis';
import type { Scenario, Target, Variant } from '../scenario.js';
import { fail, nodeRedisFor, payloads, type SessionPayload, seed, sessionCount, sessionOf } from './session.js';

/** The cookie's maxAge and the idle timeout: 30 minutes, so no session expires during a run. */
const maxAgeMs = 30 * 60_000;

/** What express-session hands a store: the data beside its cookie (`expires` a Date until it is serialized). */
type StoredSession = SessionData & SessionPayload & { views?: number };

const cookieOf = () => ({
  originalMaxAge: maxAgeMs,
  expires: new Date(Date.now() + maxAgeMs),
  httpOnly: true,
  path: '/',
});

/** Session ids as express-session makes them (`uid(24)`: 32 base64url characters), the same for every variant. */
const sids = Array.from({ length: sessionCount }, () => randomBytes(24).toString('base64url'));

/** The store operation a scenario measures. */
type Operation = 'get' | 'set' | 'touch';

/** The calls of express-session's Store that these scenarios make, as both stores offer them. */
interface PromiseStore {
  get(sid: string): Promise<unknown>;
  set(sid: string, session: StoredSession): Promise<unknown>;
  touch(sid: string, session: StoredSession): Promise<unknown>;
}

/**
 * One store doing `operation` as express-session would at the end of a
 * request: `get` (the request's read), `set` (a request that read the session
 * and changed one field: the object `get` returned, `views` changed, the
 * cookie renewed) or `touch` (a request that changed nothing: the cookie
 * renewed).
 */
function storeVariant(name: string, make: () => Promise<PromiseStore>, operation: Operation): Variant {
  // Set by setup(), which the runner awaits before any run().
  let store!: PromiseStore;
  /** Each session as this process read it (for set and touch: what a request holds). */
  const read: StoredSession[] = new Array(sessionCount);
  return {
    name,
    async setup() {
      store = await make();
      await seed((n) => store.set(sids[n] as string, { cookie: cookieOf(), ...(payloads[n] as SessionPayload) }));
      await seed(async (n) => {
        const session = (await store.get(sids[n] as string)) as StoredSession | null;
        if (session === null || session.userId !== payloads[n]?.userId) fail(name, n, session);
        read[n] = session;
      });
    },
    async run(i) {
      const n = sessionOf(i);
      const sid = sids[n] as string;
      if (operation === 'get') {
        const session = (await store.get(sid)) as StoredSession | null;
        if (session === null || session.userId !== payloads[n]?.userId) fail(name, n, session);
        return;
      }
      const session = read[n] as StoredSession;
      session.cookie.expires = new Date(Date.now() + maxAgeMs);
      if (operation === 'touch') return store.touch(sid, session);
      session.views = i;
      return store.set(sid, session);
    },
  };
}

function redkitVariant(redis: RedisConnection, operation: Operation, pipelined: boolean): Variant {
  return storeVariant(
    pipelined ? 'redkit-store-autopipelined' : 'redkit-store',
    async () => {
      let client = redis;
      if (pipelined) {
        // The same server(s), commands of one event-loop turn written in one batch (as node-redis does).
        client =
          redis instanceof Cluster
            ? redis.duplicate(undefined, { enableAutoPipelining: true })
            : redis.duplicate({ enableAutoPipelining: true });
        // Closed with the shared client, which the harness closes before it stops the servers.
        redis.once('end', () => client.disconnect());
      }
      return new RedkitSessionStore({
        redis: client,
        prefix: pipelined ? 'bench-rkp-es:' : 'bench-rk-es:',
        idleTimeout: maxAgeMs,
        absoluteTimeout: '12h',
      });
    },
    operation,
  );
}

function connectRedisVariant(redis: RedisConnection, operation: Operation): Variant {
  return storeVariant(
    'connect-redis',
    async () => {
      // Made here, not with the variant: the shared cluster client knows its masters only once connected.
      const client = nodeRedisFor(redis);
      // Errors surface through the calls; a dropped connection must not crash the run.
      client.on('error', () => {});
      // Closed with the shared ioredis client, which the harness closes before it stops the servers.
      redis.once('end', () => client.destroy());
      await client.connect();
      return new RedisStore({ client, prefix: 'bench-cr-es:' }) as unknown as PromiseStore;
    },
    operation,
  );
}

/** The practical limit: connect-redis's commands sent by hand on the shared ioredis client. */
function rawVariant(redis: RedisConnection, operation: Operation): Variant {
  const keyOf = (sid: string) => `bench-raw-es:${sid}`;
  const ttlOf = (session: StoredSession) => Math.ceil((Number(session.cookie.expires) - Date.now()) / 1000);
  return storeVariant(
    'raw-ioredis',
    async () => ({
      get: async (sid) => {
        const json = await redis.get(keyOf(sid));
        return json === null ? null : JSON.parse(json);
      },
      set: (sid, session) => redis.set(keyOf(sid), JSON.stringify(session), 'EX', ttlOf(session)),
      touch: (sid, session) => redis.expire(keyOf(sid), ttlOf(session)),
    }),
    operation,
  );
}

function describe(operation: Operation, what: string): string {
  return (
    `express-session's Store, called directly as express-session calls it: ${what} One of ` +
    `${sessionCount.toLocaleString('en-US')} sessions per operation, in a fixed random order, each holding the ` +
    'same data for every variant (`{ userId, cart: [3 skus], theme, csrf: <32 characters> }` and its cookie, ' +
    `maxAge ${maxAgeMs / 60_000} minutes), under express-session's 32-character ids. \`redkit-store\`: ` +
    "`RedkitSessionStore` of @redkit/session/express built as connect-redis's users would (`{ redis, prefix, " +
    "idleTimeout: '30m', absoluteTimeout: '12h' }`), on the shared ioredis client (auto-pipelining off); " +
    '`redkit-store-autopipelined`: the same on a second ioredis client with `enableAutoPipelining: true`; ' +
    '`connect-redis`: connect-redis 10 `RedisStore` on its own node-redis 6 client (`createClient`, or ' +
    '`createCluster` on the cluster), which writes every command queued during one event-loop turn in one ' +
    "batch; `raw-ioredis`: connect-redis's commands sent by hand on the shared client (" +
    (operation === 'get'
      ? '`GET` + JSON.parse'
      : operation === 'set'
        ? '`SET key json EX seconds`'
        : '`EXPIRE key seconds`') +
    '): the practical limit for a store that keeps each session as one JSON string.'
  );
}

const variants =
  (operation: Operation) =>
  ({ redis }: Target) => [
    redkitVariant(redis, operation, false),
    redkitVariant(redis, operation, true),
    connectRedisVariant(redis, operation),
    rawVariant(redis, operation),
  ];

/** `store.get(sid)`: the read that starts every request with a session cookie. */
export const sessionStoreGet: Scenario = {
  name: 'session-store-get',
  title: 'express-session store get, 10,000 sessions',
  description: describe(
    'get',
    '`get(sid)`, checked to return the session of that id (a failure stops the run). redkit: one EVALSHA ' +
      '(TIME, HGETALL of the session hash with one JSON field per session field, PTTL), a JSON.parse per field. ' +
      'connect-redis: GET and one JSON.parse.',
  ),
  baseline: 'raw-ioredis',
  variants: variants('get'),
};

/** `store.set(sid, session)`: a request that changed its session. */
export const sessionStoreSet: Scenario = {
  name: 'session-store-set',
  title: 'express-session store set, 10,000 sessions',
  description: describe(
    'set',
    '`set(sid, session)` of a session the process read in setup, with one field (`views`) and the cookie ' +
      'changed, as at the end of a request that changed its session. redkit: one EVALSHA writing only the fields ' +
      'that differ from what was read (TIME, HMGET of the metadata, then one HSET of the cookie, `views` and the ' +
      'next version, PEXPIRE to the cookie expiry capped by the timeouts), refused if the id was destroyed ' +
      'meanwhile. connect-redis: SET of the ' +
      'whole session as JSON with EX.',
  ),
  baseline: 'raw-ioredis',
  variants: variants('set'),
};

/** `store.touch(sid, session)`: a request that changed nothing, with a rolling cookie. */
export const sessionStoreTouch: Scenario = {
  name: 'session-store-touch',
  title: 'express-session store touch, 10,000 sessions',
  description: describe(
    'touch',
    '`touch(sid, session)` of a session the process read in setup, its cookie renewed, as at the end of a ' +
      'request that changed nothing (`rolling: true, resave: false`). redkit: one EVALSHA storing the cookie ' +
      '(HSET) and the time to live to match (PEXPIRE), refused if the id was destroyed; connect-redis: EXPIRE only ' +
      '(the stored cookie keeps its old expiry).',
  ),
  baseline: 'raw-ioredis',
  variants: variants('touch'),
};
