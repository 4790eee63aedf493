// Bad options of the express-session store: InvalidOptionsError naming the
// field, at construction (never per save), and nothing written to Redis.
import { InvalidOptionsError } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import { RedkitSessionStore } from '@redkit/session/express';
import { describeTopologies } from '@redkit/testing/vitest';
import { expect, it } from 'vitest';
import { keysOf } from './helpers.js';

describeTopologies('express-session store: bad input', (t) => {
  const prefix = () => `${t.namespace}:`;
  const sessions = () => new SessionStore({ redis: t.redis, namespace: t.namespace });
  const cases: [string, () => unknown, string][] = [
    ['no redis, client or store', () => new RedkitSessionStore({}), 'redis: is required'],
    [
      'a node-redis-like client',
      () => new RedkitSessionStore({ client: { get() {} } as never }),
      'client: must be an ioredis',
    ],
    [
      'both store and redis',
      () => new RedkitSessionStore({ store: sessions(), redis: t.redis }),
      'redis: give only one',
    ],
    ['prefix with a store', () => new RedkitSessionStore({ store: sessions(), prefix: 'x:' }), 'prefix: with `store`'],
    ['idleTimeout with a store', () => new RedkitSessionStore({ store: sessions(), idleTimeout: '1m' }), 'idleTimeout'],
    ['a prefix with spaces', () => new RedkitSessionStore({ redis: t.redis, prefix: 'my app:' }), 'prefix'],
    [
      'ttl 0',
      () => new RedkitSessionStore({ redis: t.redis, prefix: prefix(), ttl: 0 }),
      'ttl: must be a number of seconds',
    ],
    ['ttl a string', () => new RedkitSessionStore({ redis: t.redis, prefix: prefix(), ttl: '1d' as never }), 'ttl'],
    [
      'disableTTL',
      () => new RedkitSessionStore({ redis: t.redis, prefix: prefix(), disableTTL: true as never }),
      'disableTTL: is not supported',
    ],
    [
      'a serializer without parse',
      () =>
        new RedkitSessionStore({
          redis: t.redis,
          prefix: prefix(),
          serializer: { stringify: JSON.stringify } as never,
        }),
      'serializer',
    ],
    [
      'disableTouch not a boolean',
      () => new RedkitSessionStore({ redis: t.redis, prefix: prefix(), disableTouch: 'yes' as never }),
      'disableTouch',
    ],
    ['scanCount 0', () => new RedkitSessionStore({ redis: t.redis, prefix: prefix(), scanCount: 0 }), 'scanCount'],
    [
      'absoluteTimeout below idleTimeout',
      () => new RedkitSessionStore({ redis: t.redis, prefix: prefix(), idleTimeout: '1h', absoluteTimeout: '1m' }),
      'absoluteTimeout: must be at least',
    ],
    [
      'an unknown option',
      () => new RedkitSessionStore({ redis: t.redis, prefix: prefix(), ttlSeconds: 5 } as never),
      'ttlSeconds',
    ],
  ];

  it.each(cases)('%s → InvalidOptionsError naming the field, at construction', (_case, construct, message) => {
    const error = (() => {
      try {
        construct();
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain(message);
  });

  it('a ttl function returning no number fails the save with InvalidOptionsError naming ttl; nothing is written', async () => {
    const store = new RedkitSessionStore({ redis: t.redis, prefix: prefix(), ttl: () => Number.NaN });
    const error = await store.set('some-id', { a: 1 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain('ttl');
    const viaCallback = await new Promise((resolve) => store.set('some-id', { a: 1 }, resolve));
    expect(viaCallback).toBeInstanceOf(InvalidOptionsError);
    expect(await keysOf(t.redis, t.namespace)).toEqual([]);
  });

  it('data that is not JSON fails the save naming the field; nothing is written', async () => {
    const store = new RedkitSessionStore({ redis: t.redis, prefix: prefix() });
    const error = await store.set('other-id', { big: 1n }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain('data.big');
    expect(await keysOf(t.redis, t.namespace)).toEqual([]);
  });
});
