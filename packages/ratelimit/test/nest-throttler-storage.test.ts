import type { AddressInfo } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import {
  SkipThrottle,
  Throttle,
  ThrottlerGuard,
  ThrottlerModule,
  type ThrottlerModuleOptions,
  ThrottlerStorageService,
} from '@nestjs/throttler';
import { InvalidOptionsError } from '@redkit/core';
import { RedkitThrottlerStorage } from '@redkit/ratelimit/nest';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keysOf, serverTime } from './helpers.js';

// The contract is @nestjs/throttler 6's in-memory ThrottlerStorageService,
// which is also the oracle of the first test: the same calls must get the
// same answers from both.

interface Call {
  readonly key: string;
  readonly ttl: number;
  readonly limit: number;
  readonly block: number;
  readonly name: string;
}

const call = (limit: number, block: number, key = 'k', name = 'default', ttl = 60_000): Call => ({
  key,
  ttl,
  limit,
  block,
  name,
});

describeTopologies('RedkitThrottlerStorage', (t) => {
  let serial = 0;
  const storageOf = () => {
    const namespace = `${t.namespace}:${++serial}`;
    return { namespace, storage: new RedkitThrottlerStorage({ redis: t.redis, namespace, timeout: '10s' }) };
  };

  it('answers every call as the in-memory storage does (block, no block, several names, several keys)', async () => {
    const { storage } = storageOf();
    const memory = new ThrottlerStorageService();
    try {
      // Within one burst (well under a second), so both round timeToExpire alike.
      const calls: Call[] = [
        ...Array.from({ length: 5 }, () => call(3, 60_000)),
        ...Array.from({ length: 4 }, () => call(2, 0, 'free')),
        ...Array.from({ length: 3 }, () => call(1, 30_000, 'shared', 'short', 10_000)),
        ...Array.from({ length: 3 }, () => call(5, 30_000, 'shared', 'long')),
        call(0, 0, 'zero'),
        call(0, 5_000, 'zero-block'),
      ];
      for (const { key, ttl, limit, block, name } of calls) {
        const expected = await memory.increment(key, ttl, limit, block, name);
        const actual = await storage.increment(key, ttl, limit, block, name);
        // Outside a block the in-memory value is an artefact of its clock (negative); the guard reads it only when blocked.
        if (!expected.isBlocked) expected.timeToBlockExpire = 0;
        expect({ call: [key, limit, block, name], ...actual }).toEqual({
          call: [key, limit, block, name],
          ...expected,
        });
      }
    } finally {
      memory.onApplicationShutdown();
    }
  });

  it('blocks the hit over the limit, refuses without counting during the block, and restarts the count after it', async () => {
    const { storage } = storageOf();
    const hit = () => storage.increment('tracker', 60_000, 2, 1_000, 'default');
    expect(await hit()).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    expect(await hit()).toEqual({ totalHits: 2, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    const start = await serverTime(t.redis, '{tracker}');
    expect(await hit()).toEqual({ totalHits: 3, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 1 });
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 1 });
    // The block ends on the Redis clock; the hits (ttl 60 s) would still count, but the count restarts.
    await vi.waitFor(async () => expect(await serverTime(t.redis, '{tracker}')).toBeGreaterThan(start + 1_050), {
      timeout: 5_000,
      interval: 50,
    });
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false, timeToBlockExpire: 0 });
    expect(await hit()).toMatchObject({ totalHits: 2, isBlocked: false });
    expect(await hit()).toMatchObject({ totalHits: 3, isBlocked: true, timeToBlockExpire: 1 });
  });

  it('counts each hit for ttl ms: a hit that expired no longer counts (sliding log)', async () => {
    const { storage } = storageOf();
    const hit = (ttl: number) => storage.increment('slide', ttl, 2, 0, 'default');
    const start = await serverTime(t.redis, '{slide}');
    expect(await hit(300)).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(await hit(60_000)).toMatchObject({ totalHits: 2, isBlocked: false });
    expect(await hit(60_000)).toMatchObject({ totalHits: 3, isBlocked: true });
    await vi.waitFor(async () => expect(await serverTime(t.redis, '{slide}')).toBeGreaterThan(start + 350), {
      timeout: 5_000,
      interval: 25,
    });
    expect(await hit(60_000)).toMatchObject({ totalHits: 2, isBlocked: false });
  });

  it('admits exactly limit of many concurrent hits from several clients', async () => {
    const { namespace } = storageOf();
    const storages = Array.from(
      { length: 4 },
      () => new RedkitThrottlerStorage({ redis: t.client(), namespace, timeout: '10s' }),
    );
    const records = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        (storages[index % 4] as RedkitThrottlerStorage).increment('crowd', 60_000, 37, 60_000, 'default'),
      ),
    );
    expect(records.filter((record) => !record.isBlocked)).toHaveLength(37);
    expect(new Set(records.filter((record) => !record.isBlocked).map((record) => record.totalHits)).size).toBe(37);
  });

  it('keeps its keys only while the window, block or a hit lasts, in one slot', async () => {
    const { namespace, storage } = storageOf();
    await storage.increment('short', 200, 5, 0, 'default');
    const keys = await keysOf(t.redis, namespace);
    expect(keys).toEqual([`${namespace}:{short}:h:default`, `${namespace}:{short}:r`]);
    for (const key of keys) {
      const ttl = await t.redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(200);
    }
    await vi.waitFor(async () => expect(await keysOf(t.redis, namespace)).toEqual([]), {
      timeout: 5_000,
      interval: 50,
    });
  });

  it('rejects bad arguments naming them, and writes nothing', async () => {
    const { namespace, storage } = storageOf();
    const bad: [string, Parameters<RedkitThrottlerStorage['increment']>][] = [
      ['key', ['', 1_000, 1, 0, 'default']],
      ['ttl', ['k', 0, 1, 0, 'default']],
      ['ttl', ['k', Number.NaN, 1, 0, 'default']],
      ['limit', ['k', 1_000, -1, 0, 'default']],
      ['blockDuration', ['k', 1_000, 1, Number.POSITIVE_INFINITY, 'default']],
      ['throttlerName', ['k', 1_000, 1, 0, '']],
    ];
    for (const [field, args] of bad) {
      const error = await storage.increment(...args).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidOptionsError);
      expect((error as InvalidOptionsError).issues[0]?.path).toBe(field);
    }
    expect(() => new RedkitThrottlerStorage({ redis: t.redis, namespace: 'bad:' })).toThrow(/namespace/);
    expect(() => new RedkitThrottlerStorage({ redis: {} as never })).toThrow(/redis/);
    expect(await keysOf(t.redis, namespace)).toEqual([]);
  });

  describe('behind the real ThrottlerGuard, over HTTP', () => {
    const apps: NestExpressApplication[] = [];
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()));
    });

    async function start(throttlers: ThrottlerModuleOptions) {
      @Controller()
      class ThrottledController {
        @Get('ok')
        ok() {
          return { ok: true };
        }

        @Get('strict')
        @Throttle({ default: { limit: 1, ttl: 60_000 } })
        strict() {
          return { ok: true };
        }

        @Get('free')
        @SkipThrottle()
        free() {
          return { ok: true };
        }
      }

      @Controller('admin')
      @Throttle({ default: { limit: 2, ttl: 60_000 } })
      class AdminController {
        @Get()
        list() {
          return { ok: true };
        }

        @Get('export')
        @Throttle({ default: { limit: 1, ttl: 60_000 } })
        exportAll() {
          return { ok: true };
        }
      }

      @Module({
        imports: [ThrottlerModule.forRoot(throttlers)],
        controllers: [ThrottledController, AdminController],
        providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
      })
      class AppModule {}

      const app = await NestFactory.create<NestExpressApplication>(AppModule, new ExpressAdapter(), {
        logger: false,
        forceCloseConnections: true,
      });
      apps.push(app);
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      return `http://127.0.0.1:${port}`;
    }

    const get = async (url: string) => {
      const response = await fetch(url);
      await response.arrayBuffer();
      const header = (name: string) => response.headers.get(name);
      return {
        status: response.status,
        limit: header('x-ratelimit-limit'),
        remaining: header('x-ratelimit-remaining'),
        reset: header('x-ratelimit-reset'),
        retryAfter: header('retry-after'),
      };
    };

    it('limits with the module defaults, @Throttle on a handler and on a controller (handler first), @SkipThrottle', async () => {
      const { storage } = storageOf();
      const url = await start({ throttlers: [{ ttl: 60_000, limit: 3 }], storage });

      const ok = [];
      for (let i = 0; i < 4; i++) ok.push(await get(`${url}/ok`));
      expect(ok.map((reply) => [reply.status, reply.remaining])).toEqual([
        [200, '2'],
        [200, '1'],
        [200, '0'],
        [429, null],
      ]);
      expect(ok[0]).toMatchObject({ limit: '3', reset: '60' });
      expect(ok[3]?.retryAfter).toBe('60');

      expect((await get(`${url}/strict`)).status).toBe(200);
      expect((await get(`${url}/strict`)).status).toBe(429);
      const admin = [await get(`${url}/admin`), await get(`${url}/admin`), await get(`${url}/admin`)];
      expect(admin.map((reply) => [reply.status, reply.limit])).toEqual([
        [200, '2'],
        [200, '2'],
        [429, null],
      ]);
      expect((await get(`${url}/admin/export`)).limit).toBe('1');
      expect((await get(`${url}/admin/export`)).status).toBe(429);
      for (let i = 0; i < 5; i++) expect((await get(`${url}/free`)).status).toBe(200);
    });

    it('applies every named throttler, each with its own headers', async () => {
      const { storage } = storageOf();
      const url = await start({
        throttlers: [
          { name: 'burst', ttl: 60_000, limit: 5 },
          { name: 'sustained', ttl: 600_000, limit: 2 },
        ],
        storage,
      });
      const first = await fetch(`${url}/ok`);
      expect(first.headers.get('x-ratelimit-remaining-burst')).toBe('4');
      expect(first.headers.get('x-ratelimit-remaining-sustained')).toBe('1');
      expect((await get(`${url}/ok`)).status).toBe(200);
      const denied = await fetch(`${url}/ok`);
      expect(denied.status).toBe(429);
      expect(denied.headers.get('retry-after-sustained')).toBe('600');
    });

    it('blocks for blockDuration, then the count restarts', async () => {
      const { storage } = storageOf();
      const url = await start({ throttlers: [{ ttl: 60_000, limit: 2, blockDuration: 1_000 }], storage });
      expect((await get(`${url}/ok`)).remaining).toBe('1');
      expect((await get(`${url}/ok`)).remaining).toBe('0');
      const blockedAt = await serverTime(t.redis, 'x');
      const blocked = await get(`${url}/ok`);
      expect([blocked.status, blocked.retryAfter]).toEqual([429, '1']);
      expect((await get(`${url}/ok`)).status).toBe(429);
      await vi.waitFor(async () => expect(await serverTime(t.redis, 'x')).toBeGreaterThan(blockedAt + 1_050), {
        timeout: 5_000,
        interval: 50,
      });
      // The two hits of the first minute would still count; after a block they do not.
      expect(await get(`${url}/ok`)).toMatchObject({ status: 200, remaining: '1' });
      expect(await get(`${url}/ok`)).toMatchObject({ status: 200, remaining: '0' });
      expect((await get(`${url}/ok`)).status).toBe(429);
    });

    it('admits exactly limit of many parallel requests', async () => {
      const { storage } = storageOf();
      const url = await start({ throttlers: [{ ttl: 60_000, limit: 12 }], storage });
      const replies = await Promise.all(Array.from({ length: 60 }, () => get(`${url}/ok`)));
      expect(replies.filter((reply) => reply.status === 200)).toHaveLength(12);
      expect(replies.filter((reply) => reply.status === 429)).toHaveLength(48);
      expect(new Set(replies.filter((reply) => reply.status === 200).map((reply) => reply.remaining)).size).toBe(12);
    });
  });
});
