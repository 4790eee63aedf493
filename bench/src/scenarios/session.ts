import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { Cluster } from 'ioredis';
import { createClient, createCluster } from 'redis';
import type { Scenario, Target, Variant } from '../scenario.js';
import { randomIndexes } from './subjects.js';

/** Idle timeout every variant renews on each read: 30 minutes, so no session expires during a run. */
const idleMs = 30 * 60_000;
const idleSeconds = idleMs / 1000;
/** redkit's absolute timeout (the others have none). */
const absoluteMs = 12 * 60 * 60_000;

export const sessionCount = 10_000;
/** Sessions seeded per batch (callers in flight during setup). */
const seedBatch = 200;

/** What a web app keeps in a session; the same objects are seeded for every variant. */
export interface SessionPayload {
  readonly userId: string;
  readonly cart: readonly string[];
  readonly theme: string;
  readonly csrf: string;
}

export const payloads: readonly SessionPayload[] = Array.from({ length: sessionCount }, (_, i) => ({
  userId: `user-${i}`,
  cart: [`sku-${(i * 7) % 1000}`, `sku-${(i * 13) % 1000}`, `sku-${(i * 31) % 1000}`],
  theme: i % 2 === 0 ? 'light' : 'dark',
  // 24 random bytes: 32 base64url characters.
  csrf: randomBytes(24).toString('base64url'),
}));

const sequence = randomIndexes(1 << 16, sessionCount, 0x5e55);
/** Session read by operation `i`: one fixed random order, the same for every variant. */
export const sessionOf = (i: number) => sequence[i % sequence.length] as number;

/** Runs `write(n)` for every session, `seedBatch` at a time. */
export async function seed(write: (n: number) => Promise<unknown>): Promise<void> {
  for (let first = 0; first < sessionCount; first += seedBatch) {
    const batch = Array.from({ length: Math.min(seedBatch, sessionCount - first) }, (_, k) => write(first + k));
    await Promise.all(batch);
  }
}

export function fail(variant: string, n: number, got: unknown): never {
  throw new Error(`${variant}: session ${n} (${payloads[n]?.userId}) not read back, got ${JSON.stringify(got)}`);
}

/** A session as express-session stores it: its cookie beside the data. */
type ExpressSession = SessionData & SessionPayload;

/**
 * Ids of the redkit sessions, per target: redkit makes its own random ids,
 * whose first 8 characters are the hash tag; the other variants put the same
 * tag in their keys, so each session lands in the same cluster slot for all.
 */
interface SessionIds {
  ids: string[];
}

function redkitVariant(redis: RedisConnection, shared: SessionIds): Variant {
  const store = new SessionStore({ redis, namespace: 'bench-rk-sess', ttl: idleMs, absoluteTtl: absoluteMs });
  return {
    name: 'redkit',
    async setup() {
      const ids = new Array<string>(sessionCount);
      await seed(async (n) => {
        const payload = payloads[n] as SessionPayload;
        ids[n] = (await store.create(payload.userId, { ...payload })).id;
      });
      shared.ids = ids;
    },
    async run(i) {
      const n = sessionOf(i);
      const session = await store.get(shared.ids[n] as string, { touch: true });
      if (session === null || session.data.userId !== payloads[n]?.userId) fail('redkit', n, session);
    },
  };
}

/** `{tag}` of a redkit id: the same hash tag in another variant's key means the same cluster slot. */
const tagged = (id: string) => `{${id.slice(0, 8)}}${id.slice(8)}`;

/** A node-redis client (connect-redis 10 supports no other) to the server(s) `redis` talks to. */
export function nodeRedisFor(redis: RedisConnection) {
  if (redis instanceof Cluster) {
    const rootNodes = redis.nodes('master').map((node) => ({
      url: `redis://${node.options.host}:${node.options.port}`,
    }));
    return createCluster({ rootNodes, defaults: { socket: { reconnectStrategy: false } } });
  }
  const { host, port } = redis.options;
  return createClient({ url: `redis://${host}:${port}`, socket: { reconnectStrategy: false } });
}

function connectRedisVariant(redis: RedisConnection, shared: SessionIds): Variant {
  // Set by setup(), which the runner awaits before any run().
  let store!: RedisStore;
  let sids: string[] = [];
  return {
    name: 'connect-redis',
    async setup() {
      // Made here, not with the variant: the shared cluster client knows its masters only once connected.
      const client = nodeRedisFor(redis);
      // Errors surface through the calls; a dropped connection must not crash the run.
      client.on('error', () => {});
      // Variants have no teardown: close with the shared ioredis client, which the harness closes before it
      // stops the servers (else node-redis would keep the process alive).
      redis.once('end', () => client.destroy());
      await client.connect();
      store = new RedisStore({ client, prefix: 'bench-cr-sess:', ttl: idleSeconds });
      sids = shared.ids.map(tagged);
      await seed((n) => {
        // What express-session stores: its cookie (maxAge = the idle timeout) beside the data.
        const cookie = { originalMaxAge: idleMs, expires: new Date(Date.now() + idleMs), httpOnly: true, path: '/' };
        const session: ExpressSession = { cookie, ...(payloads[n] as SessionPayload) };
        return store.set(sids[n] as string, session);
      });
    },
    async run(i) {
      const n = sessionOf(i);
      const sid = sids[n] as string;
      // A request of express-session with `rolling: true, resave: false` on an unmodified session: get, then
      // `req.session.touch()` (cookie expiry = now + maxAge), then `store.touch()` as the response ends.
      const session = (await store.get(sid)) as ExpressSession | null;
      if (session === null || session.userId !== payloads[n]?.userId) fail('connect-redis', n, session);
      session.cookie.expires = new Date(Date.now() + (session.cookie.originalMaxAge ?? idleMs));
      await store.touch(sid, session);
    },
  };
}

function rawVariant(redis: RedisConnection, shared: SessionIds): Variant {
  let keys: string[] = [];
  return {
    name: 'raw-ioredis',
    async setup() {
      keys = shared.ids.map((id) => `bench-raw-sess:${tagged(id)}`);
      await seed((n) => redis.set(keys[n] as string, JSON.stringify(payloads[n]), 'PX', idleMs));
    },
    async run(i) {
      const n = sessionOf(i);
      const json = await redis.getex(keys[n] as string, 'PX', idleMs);
      const session = json === null ? null : (JSON.parse(json) as SessionPayload);
      if (session === null || session.userId !== payloads[n]?.userId) fail('raw-ioredis', n, json);
    },
  };
}

/** Reading a session and renewing its idle expiry: what every request of a rolling session does. */
export const sessionGetTouch: Scenario = {
  name: 'session-get-touch',
  title: `session get + touch, ${sessionCount.toLocaleString('en-US')} sessions`,
  description:
    `One request's session read with a rolling idle expiry (${idleMs / 60_000} minutes) per operation: one of ` +
    `${sessionCount.toLocaleString('en-US')} sessions seeded in setup, in a fixed random order, each holding ` +
    'the same data for every variant (`{ userId, cart: [3 skus], theme, csrf: <32 characters> }`). Every read ' +
    "is checked to return that session's `userId` (a failure stops the run). `redkit`: `SessionStore` of " +
    `@redkit/session (no schema; \`ttl: ${idleMs / 60_000}m\`, \`absoluteTtl: ${absoluteMs / 3_600_000}h\`), ` +
    '`get(id, { touch: true })`: one EVALSHA whose script runs TIME, HGETALL of the session hash (4 data fields, ' +
    'one JSON value each, beside user, created, absolute deadline and version) and PEXPIRE to the idle timeout ' +
    'capped by the absolute deadline; Node parses each field. `connect-redis`: connect-redis 10 `RedisStore` on a ' +
    'node-redis 6 client (`createClient`, or `createCluster` on the cluster, which connect-redis 10 supports; it ' +
    'takes no ioredis client), doing what express-session does per request with `rolling: true, resave: false` ' +
    'on an unmodified session: `get(sid)` (GET, JSON.parse of the session with its cookie), the cookie expiry ' +
    `renewed in Node, then \`touch(sid, session)\` (EXPIRE key ${idleSeconds}): two round trips, one after the ` +
    `other. \`raw-ioredis\` is the practical limit: one \`GETEX key PX ${idleMs}\` (Redis ≥ 6.2) of a JSON string, ` +
    'then JSON.parse: one command, but no absolute timeout, no per-user index and no field-level updates (the ' +
    'whole value is rewritten on every change). Keys carry the first 8 characters of the redkit session id ' +
    '(its hash tag) as hash tag in every variant, so each session lands in the same cluster slot for all of them; ' +
    'redkit and raw-ioredis share one ioredis client (auto-pipelining off: each command is written as it is ' +
    'called), connect-redis has its own node-redis connection(s), which write every command queued during one ' +
    'event-loop turn in one batch: Redis then reads many commands per system call, which lowers its `redis µs/op`.',
  baseline: 'raw-ioredis',
  variants: ({ redis }: Target) => {
    const shared: SessionIds = { ids: [] };
    // redkit first: its setup makes the session ids the other variants reuse.
    return [redkitVariant(redis, shared), connectRedisVariant(redis, shared), rawVariant(redis, shared)];
  },
};
