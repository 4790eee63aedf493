import {
  connect,
  driverFor,
  InvalidOptionsError,
  parseConnectionUrl,
  RedisUnavailableError,
  resolveConnection,
} from '@redkit/core';
import { createAclUser, type StandaloneRedis, sleep, startStandalone } from '@redkit/testing';
import { testServer } from '@redkit/testing/vitest';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('parseConnectionUrl', () => {
  it.each([
    ['redis://localhost', { topology: 'standalone', tls: false, nodes: [{ host: 'localhost', port: 6379 }] }],
    [
      'redis://10.0.0.5:7000/3',
      { topology: 'standalone', tls: false, nodes: [{ host: '10.0.0.5', port: 7000 }], db: 3 },
    ],
    [
      'rediss://cache.internal:6380',
      { topology: 'standalone', tls: true, nodes: [{ host: 'cache.internal', port: 6380 }] },
    ],
    [
      'redis://app:s%40cr%3At@h:1/0',
      {
        topology: 'standalone',
        tls: false,
        nodes: [{ host: 'h', port: 1 }],
        username: 'app',
        password: 's@cr:t',
        db: 0,
      },
    ],
    [
      'redis://:onlypass@h',
      { topology: 'standalone', tls: false, nodes: [{ host: 'h', port: 6379 }], password: 'onlypass' },
    ],
    ['redis://[::1]:6390', { topology: 'standalone', tls: false, nodes: [{ host: '::1', port: 6390 }] }],
    [
      'redis+cluster://u:p@a:7000,b:7001,[::1]:7002',
      {
        topology: 'cluster',
        tls: false,
        username: 'u',
        password: 'p',
        nodes: [
          { host: 'a', port: 7000 },
          { host: 'b', port: 7001 },
          { host: '::1', port: 7002 },
        ],
      },
    ],
    ['rediss+cluster://a', { topology: 'cluster', tls: true, nodes: [{ host: 'a', port: 6379 }] }],
  ])('%s', (url, expected) => {
    expect(parseConnectionUrl(url)).toEqual(expected);
  });

  it.each([
    ['http://localhost', /must start with redis:\/\//],
    ['localhost:6379', /must start with redis:\/\//],
    ['redis://', /names no host/],
    ['redis://a:1,b:2', /use redis\+cluster:\/\//],
    ['redis://h/abc', /database must be a number/],
    ['redis+cluster://a:1/2', /only database 0/],
    ['redis://h:99999', /not a host\[:port\]/],
    ['redis://h?db=1', /query parameters/],
  ])('rejects %s with an InvalidOptionsError on url', (url, message) => {
    expect(() => parseConnectionUrl(url)).toThrow(InvalidOptionsError);
    expect(() => parseConnectionUrl(url)).toThrow(message);
    expect(() => parseConnectionUrl(url)).toThrow(/^connect\(\): invalid options: url: /);
  });
});

describe('resolveConnection', () => {
  it('applies safe defaults for pattern code', () => {
    const { redisOptions } = resolveConnection('redis://h');
    expect(redisOptions).toMatchObject({
      host: 'h',
      port: 6379,
      db: 0,
      commandTimeout: 2_000,
      connectTimeout: 5_000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      autoResendUnfulfilledCommands: false,
    });
    const delays = Array.from({ length: 12 }, (_, attempt) => redisOptions.retryStrategy?.(attempt + 1) as number);
    expect(delays.every((delay) => delay >= 12 && delay <= 2_000)).toBe(true);
    expect(Math.max(...delays)).toBeGreaterThanOrEqual(1_000); // it backs off up to maxDelay
  });

  it('never re-sends cluster commands whose connection closed', () => {
    const { topology, clusterOptions, redisOptions } = resolveConnection('rediss+cluster://u:p@a:1,b:2');
    expect(topology).toBe('cluster');
    expect(clusterOptions?.retryDelayOnFailover).toBe(0);
    expect(redisOptions).toMatchObject({ username: 'u', password: 'p', tls: {}, autoResendUnfulfilledCommands: false });
  });

  it('accepts durations and seed nodes as strings', () => {
    const resolved = resolveConnection({ nodes: ['a:7000', { host: 'b', port: 7001 }], commandTimeout: '250ms' });
    expect(resolved.nodes).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
    expect(resolved.redisOptions.commandTimeout).toBe(250);
  });

  it.each([undefined, null, ''])('connect(%j) says that a URL is required and points at REDIS_URL', (input) => {
    expect(() => connect(input as never)).toThrow(InvalidOptionsError);
    expect(() => connect(input as never)).toThrow(
      /^connect\(\): invalid options: url: a Redis URL or connection options are required, got .* \(is REDIS_URL set\?\)$/,
    );
    try {
      connect(input as never);
    } catch (error) {
      expect((error as InvalidOptionsError).issues.map((issue) => issue.path)).toEqual(['url']);
    }
  });

  it.each([
    [{}, 'url: give exactly one of url, host, nodes or sentinels (got none)'],
    [{ url: 'redis://h', host: 'h' }, 'host: give exactly one of url, host, nodes or sentinels'],
    [{ host: 'h', port: 70_000 }, 'port: '],
    [{ host: 'h', commandTimeout: '-1s' }, 'commandTimeout: "-1s" is not a duration'],
    [{ host: 'h', commandTimeout: 0 }, 'commandTimeout: must be greater than 0'],
    [{ host: 'h', db: -1 }, 'db: '],
    [{ host: 'h', reconnect: { minDelay: '5s', maxDelay: '1s' } }, 'reconnect.minDelay: must not exceed maxDelay'],
    [{ host: 'h', colour: 'red' }, 'colour'],
    [{ nodes: [] }, 'nodes: '],
    [{ nodes: ['a:1'], db: 2 }, 'db: Redis Cluster has only database 0'],
  ])('rejects %j naming the field', (options, message) => {
    expect(() => resolveConnection(options as never)).toThrow(InvalidOptionsError);
    expect(() => resolveConnection(options as never)).toThrow(message);
  });
});

describe('connect against real servers', () => {
  let server: StandaloneRedis;
  let tlsServer: StandaloneRedis;
  let adminClient: Redis;
  const admin = () => adminClient;

  beforeAll(async () => {
    [server, tlsServer] = await Promise.all([startStandalone(), startStandalone({ tls: true })]);
    adminClient = server.client();
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), tlsServer?.stop()]);
  });

  async function connectionsReceived(): Promise<number> {
    const info = await admin().info('stats');
    return Number(/total_connections_received:(\d+)/.exec(info)?.[1]);
  }

  it('bad options throw before any connection is made', async () => {
    const before = await connectionsReceived();
    expect(() => connect({ url: `${server.url}`, commandTimeout: 'fast' as never })).toThrow(
      /commandTimeout: "fast" is not a duration/,
    );
    expect(() => connect(`${server.url}/x`)).toThrow(InvalidOptionsError);
    await sleep(100);
    // Only our own admin connection (made once, above) was ever accepted.
    expect(await connectionsReceived()).toBe(before);
  });

  it('selects the database from the URL', async () => {
    const db3 = connect(`${server.url}/3`);
    try {
      await db3.set('connect:db', 'three');
      expect(await admin().get('connect:db')).toBeNull();
      await admin().select(3);
      expect(await admin().get('connect:db')).toBe('three');
    } finally {
      await admin().select(0);
      db3.disconnect();
    }
  });

  it('authenticates an ACL user given in the URL, with a percent-encoded password', async () => {
    const user = await createAclUser(admin(), { commands: ['acl|whoami'] });
    await admin().call('ACL', 'SETUSER', user.username, 'resetpass', '>p@ss:w/rd');
    const redis = connect(`redis://${user.username}:${encodeURIComponent('p@ss:w/rd')}@127.0.0.1:${server.port}`);
    try {
      expect(await redis.call('ACL', 'WHOAMI')).toBe(user.username);
    } finally {
      redis.disconnect();
      await user.remove();
    }
  });

  it('speaks TLS with rediss:// and a trusted CA', async () => {
    const redis = connect({ url: tlsServer.url, tls: { ca: tlsServer.ca } });
    try {
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a TLS server whose certificate it does not trust', async () => {
    const redis = connect({ url: tlsServer.url, connectTimeout: 500, reconnect: { minDelay: 50, maxDelay: 100 } });
    redis.on('error', () => {});
    try {
      await expect(redis.ping()).rejects.toThrow();
    } finally {
      redis.disconnect();
    }
  });

  it('connects to the cluster from a redis+cluster:// URL', async () => {
    const cluster = connect(testServer('cluster').url as `redis+cluster://${string}`);
    try {
      expect(cluster.isCluster).toBe(true);
      await cluster.set('connect:{cluster}:k', 'v');
      expect(await cluster.get('connect:{cluster}:k')).toBe('v');
    } finally {
      cluster.disconnect();
    }
  });

  it('does not re-send a command whose connection dropped before it was answered', async () => {
    const client = server.client({ commandTimeout: 500 });
    const baseline = new Redis(server.port, server.host); // ioredis defaults, for contrast
    try {
      await client.set('connect:resend', '0');
      await baseline.ping();
      for (const redis of [client, baseline]) {
        const id = await redis.client('ID');
        // Hold write commands on the server, send INCR, then drop that connection.
        await admin().call('CLIENT', 'PAUSE', 500, 'WRITE');
        const pending = redis.incr('connect:resend');
        await sleep(50);
        await admin().call('CLIENT', 'KILL', 'ID', id);
        const outcome = await pending.then(
          () => 'resolved',
          (error: Error) => error.message,
        );
        await admin().call('CLIENT', 'UNPAUSE');
        if (redis === client) {
          // Our client fails it (by its command timeout): its outcome is unknown.
          expect(outcome).toMatch(/timed out/);
          await sleep(200);
          expect(await admin().get('connect:resend')).toBe('0');
        } else {
          // Plain ioredis re-sends it after reconnecting, which would count twice had it run.
          expect(outcome).toBe('resolved');
          expect(await admin().get('connect:resend')).toBe('1');
        }
      }
    } finally {
      baseline.disconnect();
    }
  });

  it('bounds every call when the server stops answering', async () => {
    const paused = await startStandalone();
    const redis = paused.client({ commandTimeout: 300 });
    try {
      await redis.ping();
      await paused.node.pause();
      const started = Date.now();
      const call = driverFor(redis).command('GET', ['k']);
      await expect(call).rejects.toBeInstanceOf(RedisUnavailableError);
      await expect(call).rejects.toMatchObject({ timedOut: true });
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await paused.node.resume();
      await paused.stop();
    }
  });
});
