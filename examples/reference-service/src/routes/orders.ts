import { byUser, rateLimit } from '@redkit/ratelimit/express';
import { type Request, Router } from 'express';
import { z } from 'zod';
import { parse, requireUser, userOf } from '../http.js';
import type { Services } from '../services/index.js';

const orderBody = z.object({
  productId: z.number().int().positive(),
  quantity: z.number().int().min(1).max(100).default(1),
});

/** Orders are queued (202) and written to the database by the throttled workers. */
export function orderRoutes({ orders, limiters }: Services): Router {
  const router = Router();
  // Per user and per endpoint: on top of the API bucket every route shares.
  const orderLimit = rateLimit<Request>({ limiter: limiters.orders, key: byUser((req) => req.session.userId) });

  router.post('/orders', requireUser, orderLimit, async (req, res) => {
    const { productId, quantity } = parse(orderBody, req.body);
    const idempotencyKey = req.get('Idempotency-Key') ?? undefined;
    const { orderId, duplicate } = await orders.place({ userId: userOf(req), productId, quantity }, idempotencyKey);
    res.status(202).json({ orderId, duplicate, status: `/orders/${orderId}` });
  });

  router.get('/orders/:orderId', requireUser, async (req, res) => {
    const orderId = parse(z.uuid(), req.params.orderId);
    const order = await orders.find(orderId);
    if (!order) {
      // Still queued, being retried, or in the dead letters.
      res.status(202).json({ status: 'pending' });
      return;
    }
    res.json({ status: 'processed', order });
  });

  return router;
}
