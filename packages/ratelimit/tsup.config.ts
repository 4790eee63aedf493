import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Error classes report new.target.name; esbuild would otherwise rename some of them.
  keepNames: true,
  // Lua scripts are inlined as strings: no file is read at run time.
  loader: { '.lua': 'text' },
});
