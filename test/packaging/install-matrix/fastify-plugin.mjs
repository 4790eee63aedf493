// redkit's Fastify plugin, next to an app plugin of the user's own wrapped with
// fastify-plugin (5 or 6, whichever the project installed): a limit of 1 per minute.
import { RateLimiter } from '@redkit/ratelimit';
import { rateLimitPlugin } from '@redkit/ratelimit/fastify';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { namespace, redis, report, request, versionOf } from './app-kit.mjs';

const limiter = new RateLimiter({
  redis,
  namespace,
  policies: [{ algorithm: 'fixed-window', limit: 1, window: '1m', align: 'first-hit' }],
});
const app = Fastify();
await app.register(fp(async (instance) => instance.decorate('greeting', 'hello'), { name: 'greeting' }));
await app.register(rateLimitPlugin, { limiter });
app.get('/', async () => ({ greeting: app.greeting }));
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const replies = [await request(url), await request(url)];
await app.close();
report({ versions: { fastify: versionOf('fastify'), 'fastify-plugin': versionOf('fastify-plugin') }, replies });
