// @fastify/rate-limit with redkit's store: a limit of 1 per minute.
import rateLimit from '@fastify/rate-limit';
import { createRateLimitStore } from '@redkit/ratelimit/fastify';
import Fastify from 'fastify';
import { namespace, redis, report, request, versionOf } from './app-kit.mjs';

const app = Fastify();
await app.register(rateLimit, { max: 1, timeWindow: 60_000, store: createRateLimitStore({ redis, namespace }) });
app.get('/', async () => ({ ok: true }));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const replies = [await request(url), await request(url)];
await app.close();
// The count lives in Redis: its one key, under the namespace.
const keys = await redis.keys(`${namespace}:*`);
report({
  versions: { fastify: versionOf('fastify'), '@fastify/rate-limit': versionOf('@fastify/rate-limit') },
  replies,
  keys: keys.length,
});
