import { Router } from 'express';
import { z } from 'zod';
import { parse } from '../http.js';
import type { Services } from '../services/index.js';

const nearbyQuery = z.object({
  lon: z.coerce.number().min(-180).max(180),
  lat: z.coerce.number().min(-85).max(85),
  radiusKm: z.coerce.number().positive().max(500).default(5),
  limit: z.coerce.number().int().min(1).max(50).default(10),
});

/** Stores near a point, nearest first. */
export function storeRoutes({ stores }: Services): Router {
  const router = Router();
  router.get('/stores/nearby', async (req, res) => {
    const { lon, lat, radiusKm, limit } = parse(nearbyQuery, req.query);
    res.json({ stores: await stores.near({ lon, lat }, radiusKm, limit) });
  });
  return router;
}
