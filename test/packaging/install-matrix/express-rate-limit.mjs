// express-rate-limit (7 or 8, by argv) with RedkitStore: a limit of 1 per minute.
import { RedkitStore } from '@redkit/ratelimit/express';
import express from 'express';
import { listenExpress, namespace, redis, report, request, versionOf } from './app-kit.mjs';

const peer = process.argv[2] === '7' ? 'express-rate-limit7' : 'express-rate-limit';
const { rateLimit } = await import(peer);

const store = new RedkitStore({ redis, prefix: namespace });
const app = express();
app.use(rateLimit({ windowMs: 60_000, limit: 1, standardHeaders: 'draft-7', legacyHeaders: false, store }));
app.get('/', (_req, res) => res.json({ ok: true }));
const server = await listenExpress(app);
const replies = [await request(server.url), await request(server.url)];
// The count lives in Redis: a second store on the same prefix reads it.
const stored = await new RedkitStore({ redis, prefix: namespace }).get('127.0.0.1');
await server.close();
report({
  versions: { express: versionOf('express'), 'express-rate-limit': versionOf(peer) },
  replies,
  totalHits: stored?.totalHits,
});
