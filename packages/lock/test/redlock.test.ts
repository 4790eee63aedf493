import { createRequire } from 'node:module';
import { connect, InvalidOptionsError, type RedisConnection } from '@redkit/core';
import { type Lock, LockBusyError, LockLostError } from '@redkit/lock';
import {
  QuorumUnavailableError,
  type RedlockEvents,
  RedlockMutex,
  type RedlockMutexOptions,
} from '@redkit/lock/redlock';
import { createAclUser, type StandaloneRedis, startStandalone } from '@redkit/testing';
import { testServer } from '@redkit/testing/vitest';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, sleep, timersLeftBy } from './helpers.js';

// node-redlock, pinned, as the reference whose known bugs the adapter avoids. Its 5.0.0-beta.2 ships
// types at dist/index.d.ts but its `exports` do not point to them (see bench/src/scenarios/lock-variants.ts).
type RedlockModule = typeof import('../../../node_modules/redlock/dist/index.js');
const { default: Redlock, ExecutionError } = createRequire(import.meta.url)('redlock') as RedlockModule;

/**
 * The Redlock adapter on three private standalone servers (independent
 * masters). Faults (killed, paused instances) are in redlock-faults.test.ts.
 */
let servers: StandaloneRedis[] = [];
let admins: Redis[] = [];
const instances: RedlockMutex[] = [];

beforeAll(async () => {
  servers = await Promise.all([startStandalone(), startStandalone(), startStandalone()]);
  admins = servers.map((server) => server.client());
});
afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.close()));
  await Promise.all(servers.map((server) => server.stop()));
});

/** A new connection to each of the three servers (every RedlockMutex gets its own, as separate processes would). */
const clients = () => servers.map((server) => server.client());
const redlock = (options: Partial<RedlockMutexOptions> = {}) => {
  const created = new RedlockMutex({ clients: clients(), namespace: 'rl', ttl: '5s', wait: '5s', ...options });
  instances.push(created);
  return created;
};
let counter = 0;
const resource = () => `res-${++counter}`;
const keyOf = (name: string, namespace = 'rl') => `${namespace}:{${name}}:lock`;
/** The value of a key on each server. */
const onEach = (command: string, ...args: string[]) =>
  Promise.all(admins.map((admin) => admin.call(command, ...args) as Promise<unknown>));
/**
 * On every server, eventually (within two seconds): `command` answers
 * `expected`. An operation returns as soon as a quorum answered, and the last
 * instance may apply it a moment later.
 */
const everywhere = (expected: unknown[], command: string, ...args: string[]) =>
  eventually(
    async () => {
      expect(await onEach(command, ...args)).toEqual(expected);
    },
    { timeoutMs: 2_000 },
  );

describe('bad input', () => {
  beforeAll(async () => {
    await onEach('FLUSHALL');
  });

  it.each<[string, () => Partial<RedlockMutexOptions> | RedlockMutexOptions, string]>([
    ['no clients', () => ({ clients: [] }), 'clients: must list at least one client'],
    ['clients not a list', () => ({ clients: admins[0] as never }), 'clients: Invalid input: expected array'],
    [
      'a client that is not one',
      () => ({ clients: [admins[0] as Redis, {} as never] }),
      'clients.1: must be an ioredis',
    ],
    [
      'the same client twice',
      () => ({ clients: [admins[0], admins[1], admins[0]] as Redis[] }),
      'clients.2: connects to',
    ],
    [
      'two clients of one server',
      () => ({ clients: [admins[0] as Redis, (servers[0] as StandaloneRedis).client()] }),
      'clients.1: connects to',
    ],
    ['ttl 0', () => ({ clients: admins, ttl: 0 }), 'ttl: must be at least 10ms'],
    ['negative ttl', () => ({ clients: admins, ttl: -5 }), 'ttl: must not be negative'],
    ['negative wait', () => ({ clients: admins, wait: -1 }), 'wait: must not be negative'],
    ['drift factor', () => ({ clients: admins, driftFactor: 1 }), 'driftFactor'],
    ['retry', () => ({ clients: admins, retry: { minDelay: '1s', maxDelay: '1ms' } }), 'retry.minDelay'],
    ['bad namespace', () => ({ clients: admins, namespace: 'a{b}' }), 'namespace'],
    ['a Mutex-only option', () => ({ clients: admins, wakeUp: 'pubsub' }) as never, 'wakeUp'],
    ['replicas (WAIT) make no sense here', () => ({ clients: admins, replicas: { count: 1 } }) as never, 'replicas'],
  ])('constructor, %s → InvalidOptionsError naming the field', (_case, options, message) => {
    const create = () => new RedlockMutex(options() as RedlockMutexOptions);
    expect(create).toThrow(InvalidOptionsError);
    expect(create).toThrow(message);
  });

  it('a Redis Cluster client is rejected: a cluster is one system, not independent masters', () => {
    const cluster = connect({ url: testServer('cluster').url, lazyConnect: true });
    try {
      const create = () => new RedlockMutex({ clients: [admins[0] as Redis, cluster, admins[1] as Redis] });
      expect(create).toThrow(InvalidOptionsError);
      expect(create).toThrow('clients.1: must be a standalone client');
    } finally {
      cluster.disconnect();
    }
  });

  it.each<[string, (m: RedlockMutex) => Promise<unknown>, string]>([
    ['empty resource', (m) => m.acquire(''), 'resource: must not be empty'],
    ['empty list', (m) => m.tryAcquire([]), 'resources: must list at least one resource'],
    ['resources without a shared tag', (m) => m.acquire(['{a}:1', '{b}:2']), 'resources.1: must share'],
    ['ttl 0 on acquire', (m) => m.acquire('r', { ttl: 0 }), 'ttl: must be at least 10ms'],
    ['negative wait on acquire', (m) => m.acquire('r', { wait: -1 }), 'wait: must not be negative'],
    ['wait on tryAcquire', (m) => m.tryAcquire('r', { wait: 10 } as never), 'wait'],
    ['replicas on a call', (m) => m.acquire('r', { replicas: { count: 1 } } as never), 'replicas'],
    ['withLock autoExtend', (m) => m.withLock('r', () => 1, { autoExtend: 'yes' as never }), 'autoExtend'],
    ['withLock empty resource', (m) => m.withLock('', () => 1), 'resource: must not be empty'],
  ])('%s → InvalidOptionsError', async (_case, call, message) => {
    const m = redlock();
    await expect(call(m)).rejects.toThrow(InvalidOptionsError);
    await expect(call(m)).rejects.toThrow(message);
  });

  it('nothing was written to any of the three servers', async () => {
    expect(await onEach('DBSIZE')).toEqual([0, 0, 0]);
  });
});

describe('acquire, extend and release on a quorum', () => {
  it('holds the lock on every instance until released; meanwhile another mutex gets null', async () => {
    const m = redlock();
    const other = redlock();
    expect(m.quorum).toBe(2);
    expect(m.instances).toEqual(servers.map((server) => `${server.host}:${server.port}`));
    const r = resource();
    const lock = await m.acquire(r);
    expect(lock.resources).toEqual([r]);
    expect(lock.fencingToken).toBeUndefined();
    expect(lock.replicas).toBeUndefined();
    expect(lock.isValid).toBe(true);
    expect(lock.remainingMs).toBeGreaterThan(4_000);
    expect(lock.remainingMs).toBeLessThanOrEqual(5_000);
    await everywhere([lock.token, lock.token, lock.token], 'GET', keyOf(r));
    expect(await other.tryAcquire(r)).toBeNull();

    expect(await lock.release()).toBe('released');
    expect(lock.isValid).toBe(false);
    await everywhere([0, 0, 0], 'EXISTS', keyOf(r));
    const next = await other.tryAcquire(r);
    expect(next?.isValid).toBe(true);
    expect(await next?.release()).toBe('released');
  });

  it('extend resets the lease on the instances and moves the validity forward', async () => {
    const m = redlock({ ttl: 1_000 });
    const lock = await m.acquire(resource());
    const before = lock.validUntil;
    await sleep(100);
    await lock.extend('5s');
    expect(lock.validUntil).toBeGreaterThan(before + 3_000);
    await eventually(
      async () => {
        const ttls = (await onEach('PTTL', keyOf(lock.resources[0] as string))) as number[];
        for (const ttl of ttls) expect(ttl).toBeGreaterThan(4_000);
      },
      { timeoutMs: 2_000 },
    );
    expect(await lock.release()).toBe('released');
  });

  it('a late release after expiry reports taken and leaves the new holder’s lock on every instance', async () => {
    const m = redlock({ ttl: 80 });
    const other = redlock();
    const r = resource();
    const first = await m.acquire(r);
    await sleep(200);
    expect(first.isValid).toBe(false);
    const second = await other.acquire(r, { ttl: '5s' });
    expect(await first.release()).toBe('taken');
    await everywhere([second.token, second.token, second.token], 'GET', keyOf(r));
    await expect(first.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(await second.release()).toBe('released');

    const expired = await m.acquire(resource());
    await sleep(200);
    expect(await expired.release()).toBe('expired');
  });

  it('a minority of instances held by someone else does not stop a quorum, and is left alone', async () => {
    const m = redlock();
    const r = resource();
    await (admins[2] as Redis).set(keyOf(r), 'someone-else', 'PX', 5_000);
    const lock = await m.acquire(r);
    expect(lock.isValid).toBe(true);
    expect(await lock.release()).toBe('released');
    expect(await onEach('GET', keyOf(r))).toEqual([null, null, 'someone-else']);
  });

  it('a failed attempt gives back the instances it took; LockBusyError says how many agreed at each attempt', async () => {
    const m = redlock({ retry: { minDelay: 20, maxDelay: 40 } });
    const r = resource();
    await (admins[0] as Redis).set(keyOf(r), 'someone-else', 'PX', 5_000);
    await (admins[1] as Redis).set(keyOf(r), 'someone-else', 'PX', 5_000);
    expect(await m.tryAcquire(r)).toBeNull();

    const error = (await m.acquire(r, { wait: 200 }).catch((e: unknown) => e)) as LockBusyError;
    expect(error).toBeInstanceOf(LockBusyError);
    expect(error.attempts).toBeGreaterThan(1);
    expect(error.quorum).toMatchObject({ instances: 3, required: 2 });
    expect(error.quorum?.votes).toHaveLength(error.attempts);
    for (const votes of error.quorum?.votes ?? []) {
      expect(votes.busy).toBe(2);
      expect(votes.unreachable).toBe(0);
      expect(votes.granted + votes.pending).toBe(1);
    }
    expect(error.message).toContain('2 of 3 needed');
    // The third instance granted each attempt and got it back: no key of this call is left there.
    await everywhere(['someone-else', 'someone-else', null], 'GET', keyOf(r));
  });

  it('several resources of one hash tag, all or none', async () => {
    const m = redlock();
    const lock = await m.acquire(['{acct}:1', '{acct}:2']);
    expect(await m.tryAcquire('{acct}:2')).toBeNull();
    for (const key of ['rl:{acct}:%7Bacct%7D%3A1:lock', 'rl:{acct}:%7Bacct%7D%3A2:lock']) {
      await everywhere([lock.token, lock.token, lock.token], 'GET', key);
    }
    expect(await lock.release()).toBe('released');
    await everywhere([0, 0, 0], 'EXISTS', 'rl:{acct}:%7Bacct%7D%3A1:lock', 'rl:{acct}:%7Bacct%7D%3A2:lock');
  });
});

describe('mutual exclusion under contention', () => {
  it('300 critical sections by 24 contenders on 4 mutexes (each with its own 3 connections): never two holders', async () => {
    const total = 300;
    const mutexes = Array.from({ length: 4 }, () =>
      redlock({ ttl: '2s', wait: '60s', retry: { minDelay: 2, maxDelay: 20 } }),
    );
    const r = resource();
    let done = 0;
    let inside = 0;
    let overlaps = 0;
    const statuses = new Map<string, number>();
    const contender = async (m: RedlockMutex) => {
      while (done < total) {
        const lock = await m.acquire(r);
        try {
          if (done >= total) return;
          inside++;
          if (inside !== 1) overlaps++;
          // Let every other contender run before leaving, so an overlap would be seen.
          await new Promise((resolve) => setImmediate(resolve));
          inside--;
          done++;
        } finally {
          const status = await lock.release();
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, (_, index) => contender(mutexes[index % 4] as RedlockMutex)));
    expect(done).toBe(total);
    expect(overlaps).toBe(0);
    // Every section ended with the lock still held on a quorum.
    expect([...statuses.keys()]).toEqual(['released']);
    await everywhere([0, 0, 0], 'EXISTS', keyOf(r));
  }, 60_000);
});

describe('validity', () => {
  it('is counted from the successful attempt, not the first one (node-redlock 5.0.0-beta.2 counts from the first)', async () => {
    const ttl = 1_000;
    const blocked = resource();
    const blockKey = keyOf(blocked);
    // Another holder keeps the resource for 1.5 s, longer than the ttl asked for.
    const block = () => onEach('SET', blockKey, 'someone-else', 'PX', '1500');

    // node-redlock: waits through its retries, then returns a lock that expired before it was returned.
    await block();
    const legacy = new Redlock(admins, { retryCount: 40, retryDelay: 100, retryJitter: 0 });
    const legacyLock = await legacy.acquire([blockKey], ttl);
    expect(legacyLock.expiration).toBeLessThan(Date.now());
    // … although the lease on Redis has most of its ttl left.
    expect(await (admins[0] as Redis).pttl(blockKey)).toBeGreaterThan(500);
    await legacyLock.release();

    // RedlockMutex: the same wait, and the lock is valid for about the ttl from its successful attempt.
    await block();
    const m = redlock({ retry: { minDelay: 20, maxDelay: 100 } });
    const started = performance.now();
    const lock = await m.acquire(blocked, { ttl, wait: '5s' });
    const returned = performance.now();
    expect(returned - started).toBeGreaterThan(1_200);
    expect(lock.isValid).toBe(true);
    // validUntil = sentAt + ttl − drift (1% + 2 ms) − timer lead (5%, ≤ 100 ms), sentAt shortly before `returned`.
    const budget = ttl - (ttl * 0.01 + 2) - ttl * 0.05;
    expect(lock.validUntil - returned).toBeLessThanOrEqual(budget);
    expect(lock.validUntil - returned).toBeGreaterThan(budget - 300);
    // Never beyond the lease: on a quorum of instances the key lives at least as long as the validity left
    // (the third may not have applied the acquire yet when the quorum answered).
    const leases = (await onEach('PTTL', blockKey)) as number[];
    const remaining = lock.remainingMs;
    expect(leases.filter((lease) => lease >= remaining).length).toBeGreaterThanOrEqual(2);
    expect(await lock.release()).toBe('released');
  });
});

describe('withLock', () => {
  it('returns fn’s value, keeps fn’s error, and leaves no timer running', async () => {
    const m = redlock({ ttl: 300 });
    const seen: RedlockEvents['acquired'][] = [];
    m.events.on('acquired', (event) => seen.push(event));
    const { pending } = await timersLeftBy(async () => {
      // Outlives its ttl twice: auto-extension keeps the quorum.
      expect(
        await m.withLock(resource(), async (signal, lock: Lock) => {
          await sleep(700);
          expect(signal.aborted).toBe(false);
          return lock.isValid;
        }),
      ).toBe(true);
      const failure = new Error('business');
      await expect(
        m.withLock(resource(), () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
    });
    expect(pending).toBe(0);
    expect(seen[0]).toEqual({ resource: expect.any(String), attempts: 1, durationMs: expect.any(Number) });
  });
});

describe('known node-redlock 5.0.0-beta.2 bugs (why the quorum is implemented here)', () => {
  it('using() replaces the routine’s error with its release failure', async () => {
    const legacy = new Redlock(admins, { retryCount: 0 });
    const key = keyOf(resource());
    const rejection = await legacy
      .using([key], 1_000, async () => {
        // The lease is gone (expired, or a failover lost it): the release finds nothing to delete.
        await onEach('DEL', key);
        throw new Error('business');
      })
      .catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(ExecutionError);
    expect((rejection as Error).message).not.toContain('business');
  });

  it('a busy lock is the same generic ExecutionError as any other failure', async () => {
    const legacy = new Redlock(admins, { retryCount: 0 });
    const key = keyOf(resource());
    await onEach('SET', key, 'someone-else', 'PX', '5000');
    const rejection = await legacy.acquire([key], 1_000).catch((e: unknown) => e);
    expect(rejection).toBeInstanceOf(ExecutionError);
    expect((rejection as Error).message).toBe('The operation was unable to achieve a quorum during its retry window.');
  });

  it('with an even number of instances, a split vote never settles; RedlockMutex answers at once', async () => {
    const two = admins.slice(0, 2);
    const r = resource();
    await (two[0] as Redis).set(keyOf(r), 'someone-else', 'PX', 5_000);
    const legacy = new Redlock(two, { retryCount: 0 });
    const outcome = await Promise.race([
      legacy.acquire([keyOf(r)], 1_000).then(
        () => 'acquired',
        () => 'failed',
      ),
      sleep(1_000).then(() => 'still pending after 1s'),
    ]);
    expect(outcome).toBe('still pending after 1s');

    const m = new RedlockMutex({ clients: servers.slice(0, 2).map((server) => server.client()), namespace: 'rl' });
    instances.push(m);
    expect(m.quorum).toBe(2);
    expect(await m.tryAcquire(r)).toBeNull();
  });
});

describe('least privilege', () => {
  it('works as an ACL user with exactly the documented commands on <namespace>:*', async () => {
    const commands = ['evalsha', 'eval', 'get', 'mget', 'set', 'del', 'pexpire', 'pttl'];
    const users = await Promise.all(
      admins.map((admin) => createAclUser(admin, { commands, keys: ['acl:*'], channels: ['acl:*'] })),
    );
    const restricted: RedisConnection[] = servers.map((server, index) =>
      server.client({ username: users[index]?.username, password: users[index]?.password }),
    );
    const m = new RedlockMutex({ clients: restricted, namespace: 'acl', ttl: '2s', wait: '1s' });
    instances.push(m);
    const lock = await m.acquire('r');
    await lock.extend();
    expect(await m.tryAcquire('r')).toBeNull();
    expect(await lock.release()).toBe('released');
    expect(await m.withLock(['{t}:1', '{t}:2'], () => 'ok')).toBe('ok');
    await Promise.all(users.map((user) => user.remove()));
  });
});

describe('QuorumUnavailableError', () => {
  it('is a RedisUnavailableError that names the instances', () => {
    const error = new QuorumUnavailableError(
      'acquire',
      [{ address: 'a:1', error: new Error('down') }],
      [],
      3,
      2,
      false,
    );
    expect(error.code).toBe('E_REDIS_UNAVAILABLE');
    expect(error.name).toBe('QuorumUnavailableError');
    expect(error.unreachable).toEqual(['a:1']);
    expect(error.message).toContain('a:1: down');
  });
});
