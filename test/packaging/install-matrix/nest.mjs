// NestJS (11 or 12, whichever the project installed) on Express, in plain
// JavaScript (decorators applied as functions): redkit's RateLimitGuard, then
// @nestjs/throttler's ThrottlerGuard on RedkitThrottlerStorage, each with a
// limit of 2 per minute. Every warning or error Nest logs is kept.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { RateLimiter } from '@redkit/ratelimit';
import { createRateLimitStore, rateLimitPlugin } from '@redkit/ratelimit/fastify';
import { RateLimitModule, RedkitThrottlerStorage } from '@redkit/ratelimit/nest';
import { namespace, redis, report, request, versionOf } from './app-kit.mjs';

const logged = [];
const keep = (message) => logged.push(String(message));
const logger = { log() {}, debug() {}, verbose() {}, fatal: keep, error: keep, warn: keep };

class Ok {
  ok() {
    return { ok: true };
  }
}
Get('ok')(Ok.prototype, 'ok', Object.getOwnPropertyDescriptor(Ok.prototype, 'ok'));
Controller()(Ok);

async function serve(imports, providers = []) {
  class AppModule {}
  Module({ imports, controllers: [Ok], providers })(AppModule);
  const nest = await NestFactory.create(AppModule, { logger });
  await nest.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${nest.getHttpServer().address().port}/ok`;
  const replies = [];
  for (let i = 0; i < 3; i++) replies.push(await request(url));
  await nest.close();
  return replies;
}

const limiter = new RateLimiter({
  redis,
  namespace: `${namespace}:guard`,
  policies: [{ name: 'minute', algorithm: 'fixed-window', limit: 2, window: '1m', align: 'first-hit' }],
});
const guard = await serve([RateLimitModule.forRoot({ limiter })]);
const throttler = await serve(
  [
    ThrottlerModule.forRoot({
      throttlers: [{ ttl: 60_000, limit: 2 }],
      storage: new RedkitThrottlerStorage({ redis, namespace: `${namespace}:throttler` }),
    }),
  ],
  [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
);
report({
  versions: {
    '@nestjs/core': versionOf('@nestjs/core'),
    '@nestjs/platform-express': versionOf('@nestjs/platform-express'),
    '@nestjs/throttler': versionOf('@nestjs/throttler'),
  },
  guard,
  throttler,
  logged,
  // The Fastify entry loads in an app without Fastify or fastify-plugin.
  fastifyEntry: [typeof rateLimitPlugin, typeof createRateLimitStore],
});
