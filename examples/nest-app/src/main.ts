import 'reflect-metadata';
import { createApp } from './app.js';

const app = await createApp({
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  sessionSecret: process.env.SESSION_SECRET ?? 'change-me: set SESSION_SECRET',
  secureCookies: process.env.NODE_ENV === 'production',
});
// SIGTERM / SIGINT run the shutdown hooks: caches closed, then the Redis connection.
app.enableShutdownHooks();
await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
console.log(`nest-app listening on ${await app.getUrl()}`);
