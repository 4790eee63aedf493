// redkit's own Express middleware: a limit of 1 per minute.
import { RateLimiter } from '@redkit/ratelimit';
import { rateLimit } from '@redkit/ratelimit/express';
import express from 'express';
import { listenExpress, namespace, redis, report, request, versionOf } from './app-kit.mjs';

const limiter = new RateLimiter({
  redis,
  namespace,
  policies: [{ algorithm: 'fixed-window', limit: 1, window: '1m', align: 'first-hit' }],
});
const app = express();
app.use(rateLimit({ limiter }));
app.get('/', (req, res) => res.json({ remaining: req.rateLimit?.remaining }));
const server = await listenExpress(app);
const replies = [await request(server.url), await request(server.url)];
await server.close();
report({ versions: { express: versionOf('express') }, replies });
