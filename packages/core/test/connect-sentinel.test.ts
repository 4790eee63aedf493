import { connect, InvalidOptionsError, parseConnectionUrl, resolveConnection } from '@redkit/core';
import { createAclUser, type RedisSentinel, startSentinel } from '@redkit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('parseConnectionUrl: redis+sentinel://', () => {
  it.each([
    [
      'redis+sentinel://a:26380,b,[::1]:26381/mymaster',
      {
        topology: 'sentinel',
        tls: false,
        masterName: 'mymaster',
        nodes: [
          { host: 'a', port: 26380 },
          { host: 'b', port: 26379 },
          { host: '::1', port: 26381 },
        ],
      },
    ],
    [
      'rediss+sentinel://app:s%40cret@s1:1/my%20master/2?role=replica',
      {
        topology: 'sentinel',
        tls: true,
        username: 'app',
        password: 's@cret',
        masterName: 'my master',
        db: 2,
        role: 'replica',
        nodes: [{ host: 's1', port: 1 }],
      },
    ],
    [
      'redis+sentinel://s1/m?role=master',
      { topology: 'sentinel', tls: false, masterName: 'm', role: 'master', nodes: [{ host: 's1', port: 26379 }] },
    ],
  ])('%s', (url, expected) => {
    expect(parseConnectionUrl(url)).toEqual(expected);
  });

  it.each([
    ['redis+sentinel://s1:26379', /ends in \/<master-name>/],
    ['redis+sentinel://s1:26379/', /ends in \/<master-name>/],
    ['redis+sentinel://s1/m/x', /database must be a number/],
    ['redis+sentinel://s1/m/1/2', /path is \/<master-name>\[\/<db>\]/],
    ['redis+sentinel://s1/m?role=primary', /role must be master or replica/],
    ['redis+sentinel://s1/m?db=1', /unknown parameter "db"/],
    ['redis+sentinel:///m', /names no host/],
    ['redis://a:1,b:2', /redis\+sentinel:\/\/ for sentinels/],
    ['redis://h?role=replica', /query parameters are not supported/],
  ])('rejects %s with an InvalidOptionsError on url', (url, message) => {
    expect(() => parseConnectionUrl(url)).toThrow(InvalidOptionsError);
    expect(() => parseConnectionUrl(url)).toThrow(message);
    expect(() => parseConnectionUrl(url)).toThrow(/^connect\(\): invalid options: url: /);
  });
});

describe('resolveConnection: Sentinel', () => {
  it('hands ioredis the sentinels, the master name and the safe defaults', () => {
    const { topology, nodes, redisOptions } = resolveConnection('redis+sentinel://u:p@a:1,b:2/cache/1');
    expect(topology).toBe('sentinel');
    expect(nodes).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
    expect(redisOptions).toMatchObject({
      sentinels: nodes,
      name: 'cache',
      role: 'master',
      db: 1,
      username: 'u',
      password: 'p',
      commandTimeout: 2_000,
      sentinelCommandTimeout: 2_000,
      autoResendUnfulfilledCommands: false,
      failoverDetector: true,
    });
    expect(redisOptions).not.toHaveProperty('host');
    expect(redisOptions).not.toHaveProperty('sentinelTLS');
    // A demoted primary's READONLY (the command did not run) reconnects through the sentinels and re-sends.
    const onError = redisOptions.reconnectOnError as (error: Error) => unknown;
    expect(onError(new Error("READONLY You can't write against a read only replica."))).toBe(2);
    expect(onError(new Error('ERR unknown command'))).toBe(false);
  });

  it('takes the options form, TLS for sentinels and data nodes, and the sentinels’ own credentials', () => {
    const { redisOptions } = resolveConnection({
      sentinels: ['a', { host: 'b', port: 26390 }],
      masterName: 'm',
      role: 'replica',
      sentinelUsername: 'watcher',
      sentinelPassword: 'w',
      tls: { servername: 'x' },
    });
    expect(redisOptions.reconnectOnError).toBeUndefined(); // a replica refuses writes by design
    expect(redisOptions).toMatchObject({
      sentinels: [
        { host: 'a', port: 26379 },
        { host: 'b', port: 26390 },
      ],
      name: 'm',
      role: 'slave',
      sentinelUsername: 'watcher',
      sentinelPassword: 'w',
      tls: { servername: 'x' },
      sentinelTLS: { servername: 'x' },
      enableTLSForSentinelMode: true,
    });
  });

  it.each([
    [{ sentinels: ['a'] }, /masterName: is required with sentinels/],
    [{ host: 'h', masterName: 'm' }, /masterName: applies to Sentinel only/],
    [{ url: 'redis://h', role: 'replica' as const }, /role: applies to Sentinel only/],
    [{ sentinels: ['a'], masterName: 'm', host: 'h' }, /give exactly one of url, host, nodes or sentinels/],
    [{ sentinels: [], masterName: 'm' }, /sentinels: /],
    [{ sentinels: ['a'], masterName: 'm', role: 'primary' as never }, /role: /],
  ])('rejects %j with a typed error naming the field', (options, message) => {
    expect(() => resolveConnection(options)).toThrow(InvalidOptionsError);
    expect(() => resolveConnection(options)).toThrow(message);
  });
});

describe('connect() through real sentinels', () => {
  let setup: RedisSentinel;
  beforeAll(async () => {
    setup = await startSentinel();
  });
  afterAll(() => setup?.stop());

  it('reaches the primary, and a replica with role=replica', async () => {
    const primary = setup.client();
    await primary.set('sentinel:k', 'v');
    expect((await primary.role())[0]).toBe('master');
    const replica = setup.client({ role: 'replica' });
    expect((await replica.role())[0]).toBe('slave');
    await expect(replica.set('sentinel:k', 'w')).rejects.toThrow(/READONLY/);
  });

  it('authenticates to the primary with the ACL user of the URL', async () => {
    const user = await createAclUser(setup.client(), { commands: ['acl|whoami', 'get'] });
    const url = setup.url.replace('redis+sentinel://', `redis+sentinel://${user.username}:${user.password}@`);
    const redis = connect({ url, lazyConnect: true });
    try {
      expect(await redis.call('ACL', 'WHOAMI')).toBe(user.username);
      await expect(redis.set('sentinel:acl', '1')).rejects.toThrow(/NOPERM/);
    } finally {
      redis.disconnect();
      await user.remove();
    }
  });
});
