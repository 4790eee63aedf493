import { defineConfig, type Options } from 'tsup';

/**
 * How every package is built: ESM + CJS with declarations for both, Lua
 * scripts inlined as text (no file is read at run time), class names kept
 * because error classes report `new.target.name`.
 */
export function packageBuild(entry: Record<string, string>, extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    keepNames: true,
    loader: { '.lua': 'text' },
    ...extra,
  });
}
