// Lua scripts are imported as text; tsup (esbuild `text` loader) and vitest
// (the `lua-as-text` plugin in vitest.config.ts) inline them at build time, with
// their `-- @include x.lua` lines expanded (scripts/lua-include.ts).
declare module '*.lua' {
  const source: string;
  export default source;
}
