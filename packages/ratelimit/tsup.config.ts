import { packageBuild } from '../../tsup.base.js';

export default packageBuild(
  { index: 'src/index.ts', express: 'src/express.ts', fastify: 'src/fastify.ts', nest: 'src/nest.ts' },
  {
    // Frameworks are optional peers, and the subpaths take the limiter's types
    // from the main entry (a second copy of the RateLimiter class declaration,
    // with its private fields, would not be assignable to the first).
    external: ['@redkit/ratelimit', 'express', 'fastify', '@nestjs/common', '@nestjs/core', 'reflect-metadata', 'rxjs'],
  },
);
