import { defineConfig, type Options } from 'tsup';

/**
 * How every package is built: ESM + CJS with declarations for both, Lua
 * scripts inlined as text (no file is read at run time), class names kept
 * because error classes report `new.target.name`.
 *
 * keepNames wraps every function that takes its name from a binding
 * (`const fail = () => …`) in a `__name()` call, which costs about a
 * microsecond each time such a closure is created. On hot paths (a call per
 * request) pass closures inline, where they have no name to keep.
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
