import { Router } from 'express';
import { z } from 'zod';
import { parse, requireUser, userOf } from '../http.js';
import type { Services } from '../services/index.js';

const scoreBody = z.object({ score: z.number().int().min(0).max(1_000_000) });

/** Submit a score, the top 10, and where I stand. */
export function leaderboardRoutes({ scores }: Services): Router {
  const router = Router();

  router.post('/scores', requireUser, async (req, res) => {
    const { score } = parse(scoreBody, req.body);
    const result = await scores.submit(userOf(req), score);
    res.json({ score: result.score, rank: result.rank, improved: result.changed });
  });

  router.get('/leaderboard', async (_req, res) => {
    res.json({ top: await scores.top(10) });
  });

  router.get('/leaderboard/me', requireUser, async (req, res) => {
    const { entry, around } = await scores.me(userOf(req));
    if (!entry) {
      res.status(404).json({ error: 'no score yet' });
      return;
    }
    res.json({ entry, around });
  });

  return router;
}
