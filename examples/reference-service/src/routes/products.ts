import { Router } from 'express';
import { z } from 'zod';
import { idParam, parse, requireAdmin } from '../http.js';
import type { Services } from '../services/index.js';

const productPatch = z.object({
  name: z.string().min(1).max(200).optional(),
  priceCents: z.number().int().min(0).optional(),
});

/** Cache-aside reads and write-through updates of products. */
export function productRoutes({ catalog }: Services): Router {
  const router = Router();

  router.get('/products/:id', async (req, res) => {
    const id = parse(idParam, req.params.id);
    const { product, loaded } = await catalog.get(id);
    // For people and tests watching: did this request go to the database?
    res.setHeader('X-Cache', loaded ? 'miss' : 'hit');
    if (!product) {
      res.status(404).json({ error: `no product ${id}` });
      return;
    }
    res.json(product);
  });

  router.put('/products/:id', requireAdmin, async (req, res) => {
    const id = parse(idParam, req.params.id);
    const product = await catalog.update(id, parse(productPatch, req.body));
    if (!product) {
      res.status(404).json({ error: `no product ${id}` });
      return;
    }
    res.json(product);
  });

  return router;
}
