import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', express: 'src/express.ts', fastify: 'src/fastify.ts', nest: 'src/nest.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Error classes report new.target.name; esbuild would otherwise rename some of them.
  keepNames: true,
  // Lua scripts are inlined as strings: no file is read at run time.
  loader: { '.lua': 'text' },
  // Frameworks are optional peers, and the subpaths take the limiter's types
  // from the main entry (a second copy of the RateLimiter class declaration,
  // with its private fields, would not be assignable to the first).
  external: [
    '@redkit/ratelimit',
    'express',
    'fastify',
    'fastify-plugin',
    '@nestjs/common',
    '@nestjs/core',
    'reflect-metadata',
    'rxjs',
  ],
});
