import { packageBuild } from '../../tsup.base.js';

export default packageBuild(
  { index: 'src/index.ts', express: 'src/express.ts', fastify: 'src/fastify.ts' },
  {
    // The frameworks are optional peers, and the subpaths take the store's
    // types from the main entry (one declaration of SessionStore, not two).
    external: ['@redkit/session', 'express-session', '@fastify/session'],
  },
);
