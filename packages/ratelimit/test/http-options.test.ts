import type { AddressInfo } from 'node:net';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { InvalidOptionsError, type RedisConnection, scanAll } from '@redkit/core';
import { RateLimiter } from '@redkit/ratelimit';
import { rateLimit } from '@redkit/ratelimit/express';
import { rateLimitPlugin } from '@redkit/ratelimit/fastify';
import { RateLimit, RateLimitModule } from '@redkit/ratelimit/nest';
import { describeTopologies } from '@redkit/testing/vitest';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';

/** Runs `build` and returns the InvalidOptionsError it throws (or rejects with). */
async function invalid(build: () => unknown): Promise<InvalidOptionsError> {
  try {
    await build();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return error as InvalidOptionsError;
  }
  throw new Error('expected InvalidOptionsError, nothing was thrown');
}

describeTopologies('HTTP middleware options', (t) => {
  const limiter = new RateLimiter({
    redis: t.redis,
    namespace: t.namespace,
    policies: [{ name: 'minute', algorithm: 'fixed-window', limit: 5, window: '1m' }],
  });

  afterAll(async () => {
    // Nothing above may have reached Redis.
    const keys: string[] = [];
    for await (const batch of scanAll(t.redis, `${t.namespace}:*`)) keys.push(...batch);
    expect(keys).toEqual([]);
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['no limiter', {}, 'limiter: must be a RateLimiter from @redkit/ratelimit'],
    ['a limiter that is not one', { limiter: { limit: 1 } }, 'limiter: must be a RateLimiter'],
    ['key not a function', { limiter, key: 'ip' }, 'key: must be a function of the request'],
    ['skip not a function', { limiter, skip: true }, 'skip: must be a function of the request'],
    ['zero cost', { limiter, cost: 0 }, 'cost: must be a positive integer or a function of the request'],
    ['fractional cost', { limiter, cost: 1.5 }, 'cost: must be a positive integer or a function of the request'],
    ['allowList not a list', { limiter, allowList: '127.0.0.1' }, 'allowList: '],
    ['empty allowList entry', { limiter, allowList: ['a', ''] }, 'allowList.1: must not be empty'],
    ['headers.standard not a boolean', { limiter, headers: { standard: 'yes' } }, 'headers.standard: '],
    ['misspelt header option', { limiter, headers: { legasy: true } }, 'headers: Unrecognized key: "legasy"'],
    ['statusCode not an error', { limiter, statusCode: 200 }, 'statusCode: '],
    ['onLimited not a function', { limiter, onLimited: { body: 'no' } }, 'onLimited: must be a function'],
    ['unknown option', { limiter, keyGenerator: () => 'x' }, '(root): Unrecognized key: "keyGenerator"'],
  ];

  describe('Express rateLimit()', () => {
    it.each(cases)('%s', async (_name, options, message) => {
      const error = await invalid(() => rateLimit(options as never));
      expect(error.message).toContain(`rateLimit(): invalid options: ${message}`);
    });
  });

  describe('Fastify rateLimitPlugin', () => {
    it.each(cases)('%s', async (_name, options, message) => {
      const app = Fastify();
      try {
        const error = await invalid(async () => {
          await app.register(rateLimitPlugin, options as never);
        });
        expect(error.message).toContain(`rateLimitPlugin: invalid options: ${message}`);
      } finally {
        await app.close();
      }
    });

    it('rejects an unknown hook', async () => {
      const app = Fastify();
      const error = await invalid(() => app.register(rateLimitPlugin, { limiter, hook: 'onSend' as never }));
      expect(error.message).toContain('hook: Invalid option: expected one of "onRequest"|"preHandler"');
      await app.close();
    });

    it('rejects a bad route override where the route is declared', async () => {
      const app = Fastify();
      await app.register(rateLimitPlugin, { limiter });
      const error = await invalid(async () => {
        app.get('/export', { config: { rateLimit: { cost: 0 } } }, () => 'x');
        await app.ready();
      });
      expect(error.message).toBe(
        'route GET /export config.rateLimit: invalid options: cost: must be a positive integer or a function of the request',
      );
      await app.close();
    });
  });

  describe('Nest', () => {
    it.each(cases)('RateLimitModule.forRoot(): %s', async (_name, options, message) => {
      const error = await invalid(() => RateLimitModule.forRoot(options as never));
      expect(error.message).toContain(`RateLimitModule.forRoot(): invalid options: ${message}`);
    });

    it('RateLimitModule.forRoot(): globalGuard not a boolean', async () => {
      const error = await invalid(() => RateLimitModule.forRoot({ limiter, globalGuard: 'yes' as never }));
      expect(error.message).toContain('globalGuard: Invalid input: expected boolean, received string');
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['zero cost', { cost: 0 }, 'cost: must be a positive integer or a function of the request'],
      ['key not a function', { key: 'user' }, 'key: must be a function of the request'],
      ['unknown option', { limit: 3 }, '(root): Unrecognized key: "limit"'],
    ])('@RateLimit(): %s', async (_name, options, message) => {
      const error = await invalid(() => RateLimit(options as never));
      expect(error.message).toBe(`@RateLimit(): invalid options: ${message}`);
    });

    it('RateLimitModule.forRootAsync(): checks its own options at once and the factory’s at startup', async () => {
      const error = await invalid(() => RateLimitModule.forRootAsync({ useFactory: 'no' as never }));
      expect(error.message).toContain('forRootAsync(): invalid options: useFactory: must be a function');

      @Module({ imports: [RateLimitModule.forRootAsync({ useFactory: () => ({ limiter, cost: -1 }) })] })
      class BadModule {}
      // abortOnError: false makes Nest reject instead of exiting the process.
      const startup = await invalid(() =>
        NestFactory.create(BadModule, new ExpressAdapter(), { logger: false, abortOnError: false }),
      );
      expect(startup.message).toContain('RateLimitModule.forRootAsync() factory: invalid options: cost: ');
    });
  });
});

describeTopologies('Nest RateLimitModule.forRootAsync', (t) => {
  it('builds the options in a factory that injects a provider', async () => {
    const redisToken = Symbol('redis');

    @Module({ providers: [{ provide: redisToken, useValue: t.redis }], exports: [redisToken] })
    class RedisModule {}

    @Controller()
    class HelloController {
      @Get('hello')
      hello() {
        return 'hello';
      }
    }

    @Module({
      imports: [
        RateLimitModule.forRootAsync({
          imports: [RedisModule],
          inject: [redisToken],
          useFactory: (redis: RedisConnection) => ({
            limiter: new RateLimiter({
              redis,
              namespace: t.namespace,
              policies: [{ name: 'hour', algorithm: 'fixed-window', limit: 2, window: '1h', align: 'first-hit' }],
            }),
          }),
        }),
      ],
      controllers: [HelloController],
    })
    class AppModule {}

    const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      const statuses: [number, string | null][] = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/hello`);
        statuses.push([response.status, response.headers.get('ratelimit')]);
      }
      expect(statuses).toEqual([
        [200, '"hour";r=1;t=3600'],
        [200, '"hour";r=0;t=3600'],
        [429, '"hour";r=0;t=3600'],
      ]);
    } finally {
      await app.close();
    }
  });
});
