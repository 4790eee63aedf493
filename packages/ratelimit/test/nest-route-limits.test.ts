import type { AddressInfo } from 'node:net';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { InvalidOptionsError } from '@redkit/core';
import { type PolicyInput, RateLimiter } from '@redkit/ratelimit';
import { RateLimit, RateLimitModule } from '@redkit/ratelimit/nest';
import { describeTopologies } from '@redkit/testing/vitest';
import { afterEach, describe, expect, it } from 'vitest';

// Per-route limits of redkit's own guard: named limiters picked with
// @RateLimit({ limiter }) on a handler or a controller, the handler's
// settings over the controller's, field by field.

const perMinute = (name: string, limit: number): PolicyInput => ({
  name,
  algorithm: 'fixed-window',
  limit,
  window: '1m',
  align: 'first-hit',
});

describeTopologies('RateLimitGuard named limiters', (t) => {
  let serial = 0;
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  const limiter = (name: string, limit: number) =>
    new RateLimiter({
      redis: t.redis,
      namespace: `${t.namespace}:${++serial}`,
      policies: [perMinute(name, limit)],
      timeout: '10s',
    });

  async function start(platform: 'express' | 'fastify', limiters: Record<string, RateLimiter>) {
    @Controller()
    class PlainController {
      @Get('plain')
      plain() {
        return { ok: true };
      }

      @Get('login')
      @RateLimit({ limiter: 'login' })
      login() {
        return { ok: true };
      }
    }

    @Controller('admin')
    @RateLimit({ limiter: 'admin', cost: 2 })
    class AdminController {
      @Get()
      list() {
        return { ok: true };
      }

      @Get('cheap')
      @RateLimit({ cost: 1 })
      cheap() {
        return { ok: true };
      }

      @Get('login')
      @RateLimit({ limiter: 'login' })
      login() {
        return { ok: true };
      }

      @Get('ghost')
      @RateLimit({ limiter: 'ghost' })
      ghost() {
        return { ok: true };
      }
    }

    @Module({
      imports: [RateLimitModule.forRoot({ limiter: limiter('app', 10), limiters })],
      controllers: [PlainController, AdminController],
    })
    class AppModule {}

    const app = await NestFactory.create(
      AppModule,
      platform === 'express' ? new ExpressAdapter() : new FastifyAdapter({ forceCloseConnections: true }),
      { logger: false, ...(platform === 'express' ? { forceCloseConnections: true } : {}) },
    );
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  const get = async (url: string) => {
    const response = await fetch(url);
    await response.arrayBuffer();
    // The seconds to reset (t=) depend on how busy the machine is; the units left do not.
    return { status: response.status, limit: response.headers.get('ratelimit')?.replace(/;t=\d+$/, '') ?? null };
  };

  describe.each(['express', 'fastify'] as const)('Nest on %s', (platform) => {
    it('limits each route with its limiter, cost and key, the handler over the controller', async () => {
      const url = await start(platform, { login: limiter('login', 2), admin: limiter('admin', 5) });

      expect(await get(`${url}/plain`)).toEqual({ status: 200, limit: '"app";r=9' });
      expect(await get(`${url}/login`)).toEqual({ status: 200, limit: '"login";r=1' });
      // The controller's limiter and cost.
      expect(await get(`${url}/admin`)).toEqual({ status: 200, limit: '"admin";r=3' });
      // The handler's cost, the controller's limiter.
      expect(await get(`${url}/admin/cheap`)).toEqual({ status: 200, limit: '"admin";r=2' });
      // The handler's limiter, the controller's cost: 2 units of 'login', of which one was left.
      expect((await get(`${url}/admin/login`)).status).toBe(429);
      expect((await get(`${url}/login`)).status).toBe(200);
      expect((await get(`${url}/login`)).status).toBe(429);
      expect(await get(`${url}/plain`)).toEqual({ status: 200, limit: '"app";r=8' });
    });

    it('answers 500 for a limiter name the module does not have', async () => {
      const url = await start(platform, {});
      expect((await get(`${url}/admin/ghost`)).status).toBe(500);
    });
  });

  it('rejects a bad limiter name where it is declared, and bad limiters in the module', () => {
    expect(() => RateLimit({ limiter: 'no spaces' })).toThrow(InvalidOptionsError);
    expect(() => RateLimit({ limiter: 'no spaces' })).toThrow(/limiter/);
    expect(() => RateLimitModule.forRoot({ limiter: limiter('a', 1), limiters: { ok: {} as RateLimiter } })).toThrow(
      /limiters\.ok/,
    );
    expect(() =>
      RateLimitModule.forRoot({ limiter: limiter('a', 1), limiters: { 'bad name': limiter('b', 1) } }),
    ).toThrow(/limiters/);
  });
});
