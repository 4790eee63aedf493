import { readFileSync } from 'node:fs';
import { Router } from 'express';
import type { LiveDashboard } from '../dashboard.js';

const page = (name: string) => readFileSync(new URL(`../public/${name}`, import.meta.url), 'utf8');

/** The live dashboard: a static page and script (no build step) fed by server-sent events. */
export function dashboardRoutes(dashboard: LiveDashboard): Router {
  const router = Router();
  const html = page('dashboard.html');
  const script = page('dashboard.js');

  router.get('/', (_req, res) => res.redirect('/dashboard'));
  router.get('/dashboard', (_req, res) => {
    res.type('html').send(html);
  });
  router.get('/dashboard/dashboard.js', (_req, res) => {
    res.type('js').send(script);
  });
  router.get('/dashboard/events', (_req, res) => dashboard.subscribe(res));
  // For polling clients and scripts.
  router.get('/dashboard/snapshot', async (_req, res) => {
    res.json(await dashboard.snapshot());
  });
  return router;
}
