import { readFile } from 'node:fs/promises';
import { defineConfig, type Options } from 'tsup';
import { expandLuaIncludes } from './scripts/lua-include.js';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * Loads `.lua` files as text with their `-- @include x.lua` lines expanded
 * (scripts/lua-include.ts, shared with vitest.config.ts). A missing or
 * ill-formed include fails the build with the script and line.
 */
export const luaIncludes: EsbuildPlugin = {
  name: 'lua-include',
  setup(build) {
    build.onLoad({ filter: /\.lua$/ }, async ({ path }) => {
      try {
        const { source, includes } = expandLuaIncludes(path, await readFile(path, 'utf8'));
        return { contents: source, loader: 'text', watchFiles: [...includes] };
      } catch (error) {
        return { errors: [{ text: (error as Error).message }] };
      }
    });
  },
};

/**
 * How every package is built: ESM + CJS with declarations for both, and Lua
 * scripts inlined as text (no file is read at run time).
 *
 * keepNames is off on purpose: it wraps every function that takes its name
 * from a binding (`const fail = () => …`, `{ attempt: () => … }`) in a
 * `__name()` call, which cost about a microsecond each time such a closure was
 * created on a hot path (profiled in the driver). Error classes report
 * `new.target.name`, which stays right as long as a class does not name
 * itself inside its own body (the bundler then renames it `_Name`); the
 * packaging test checks every exported error class's name.
 */
export function packageBuild(entry: Record<string, string>, extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    keepNames: false,
    loader: { '.lua': 'text' },
    ...extra,
    esbuildPlugins: [luaIncludes, ...(extra.esbuildPlugins ?? [])],
  });
}
