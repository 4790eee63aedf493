import { Router } from 'express';
import { z } from 'zod';
import { parse, requireAdmin } from '../http.js';
import type { Services } from '../services/index.js';

const deadId = z.string().regex(/^\d+-\d+$/, 'must be a stream entry id');

/** The dead letters of the orders queue: look, and replay once the cause is fixed. */
export function adminRoutes({ orders }: Services): Router {
  const router = Router();
  router.use('/admin', requireAdmin);

  router.get('/admin/dead-letters', async (_req, res) => {
    const letters = await orders.queue.deadLetters.list({ count: 100 });
    res.json({
      deadLetters: letters.map((letter) => ({
        id: letter.id,
        order: letter.message,
        reason: letter.reason,
        error: letter.error,
        attempts: letter.attempts,
        deadAt: letter.deadAt,
      })),
    });
  });

  router.post('/admin/dead-letters/:id/replay', async (req, res) => {
    const id = parse(deadId, req.params.id);
    const replayedAs = await orders.queue.deadLetters.replay(id);
    if (replayedAs === null) {
      res.status(404).json({ error: `no dead letter ${id}` });
      return;
    }
    res.json({ replayedAs });
  });

  router.get('/admin/queue', async (_req, res) => {
    res.json(await orders.queue.stats());
  });

  return router;
}
