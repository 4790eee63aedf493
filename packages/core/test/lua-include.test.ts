import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineScript } from '@redkit/core';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { expandLuaIncludes } from '../../../scripts/lua-include.js';
import { luaIncludes } from '../../../tsup.base.js';

/** The build-time Lua `@include` (scripts/lua-include.ts), used by tsup.base.ts and vitest.config.ts. */

const dir = mkdtempSync(join(tmpdir(), 'redkit-lua-include-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes files into the temporary folder; returns the path of the first. */
function write(files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, Object.keys(files)[0] ?? '');
}
const expand = (path: string) => expandLuaIncludes(path, readFileSync(path, 'utf8'));

const counter = [
  '-- bump-counter: adds 1 to a counter',
  '-- KEYS[1] counter',
  '',
  'local function bump()',
  "  return redis.call('INCR', KEYS[1])",
  'end',
  '',
].join('\n');
const script = [
  '-- get-count: bumps and returns the counter',
  '-- KEYS[1] counter',
  '-- Reply: the new count',
  '',
  'local x = 1',
  '  -- @include bump-counter.lua',
  'return bump()',
].join('\n');

describe('Lua @include', () => {
  it('expands an include in place, without its header, and the script keeps its own header', () => {
    const path = write({ 'ok/get-count.lua': script, 'ok/bump-counter.lua': counter });
    const { source, includes } = expand(path);
    expect(source).toBe(
      [
        '-- get-count: bumps and returns the counter',
        '-- KEYS[1] counter',
        '-- Reply: the new count',
        '',
        'local x = 1',
        '  -- begin bump-counter.lua',
        '  local function bump()',
        "    return redis.call('INCR', KEYS[1])",
        '  end',
        '  -- end bump-counter.lua',
        'return bump()',
      ].join('\n'),
    );
    expect(includes).toEqual([join(dir, 'ok/bump-counter.lua')]);
    expect(defineScript('get-count', source).numberOfKeys).toBe(1);
  });

  it('leaves a script without includes as it is', () => {
    const text = '-- get-one: one\n-- Reply: 1\nreturn 1';
    expect(expandLuaIncludes(join(dir, 'get-one.lua'), text)).toEqual({ source: text, includes: [] });
  });

  it('fails on a missing include, naming the script and the line', () => {
    const path = write({ 'missing/get-count.lua': script });
    expect(() => expand(path)).toThrow(/missing\/get-count\.lua:6: @include bump-counter\.lua: no such file/);
  });

  it('refuses an ill-formed line, an include of an include, and one file included twice', () => {
    const bad = write({ 'bad/get-count.lua': script.replace('bump-counter.lua', 'bump counter') });
    expect(() => expand(bad)).toThrow(/get-count\.lua:6: expected "-- @include name\.lua"/);
    const nested = write({
      'nested/get-count.lua': script,
      'nested/bump-counter.lua': `${counter}-- @include other.lua\n`,
      'nested/other.lua': '-- other: x\nlocal y = 1\n',
    });
    expect(() => expand(nested)).toThrow(/bump-counter\.lua:7: an included file cannot @include another/);
    const twice = write({
      'twice/get-count.lua': `${script}\n-- @include bump-counter.lua`,
      'twice/bump-counter.lua': counter,
    });
    expect(() => expand(twice)).toThrow(/get-count\.lua:8: @include bump-counter\.lua: already included/);
  });

  it('counts in the header check: what an include reads is in its header and in the script header', () => {
    const unnamed = write({ 'unnamed/get-count.lua': script, 'unnamed/bump-counter.lua': counter.slice(3) });
    expect(() => expand(unnamed)).toThrow(/bump-counter\.lua:1: an included file opens with a header line/);
    const undeclared = write({
      'undeclared/get-count.lua': script,
      'undeclared/bump-counter.lua': counter.replace("'INCR', KEYS[1]", "'INCR', ARGV[2]"),
    });
    expect(() => expand(undeclared)).toThrow(/bump-counter\.lua:5: reads ARGV\[2\], which its header does not list/);
    const wider = write({
      'wider/get-count.lua': script,
      'wider/bump-counter.lua': counter.replace('-- KEYS[1] counter', '-- KEYS[1] counter\n-- KEYS[2] other'),
    });
    expect(() => expand(wider)).toThrow(
      /get-count\.lua:6: @include bump-counter\.lua reads KEYS\[2\], which the script's header does not declare/,
    );
    const variadic = write({
      'variadic/get-count.lua': script.replace('-- KEYS[1] counter', '-- KEYS[1...] counters'),
      'variadic/bump-counter.lua': counter.replace('-- KEYS[1] counter', '-- KEYS[1] counter\n-- KEYS[2] other'),
    });
    expect(() => expand(variadic)).not.toThrow();
    const noReply = write({ 'noreply/get-count.lua': script.replace('-- Reply: the new count\n', '') });
    expect(() => expand(noReply)).toThrow(/get-count\.lua: script get-count: header has no "-- Reply:" line/);
    const widened = write({
      'extends/get-count.lua': script.replace('local x = 1\n  ', ''),
      'extends/bump-counter.lua': counter.replace('\nlocal function', '\n-- KEYS[2] not a header line\nlocal function'),
    });
    expect(() => expand(widened)).toThrow(/an include changes the script's header/);
  });

  it('defineScript refuses a script whose include was never expanded', () => {
    expect(() => defineScript('get-count', script)).toThrow(
      /script get-count: "-- @include bump-counter\.lua" was not expanded/,
    );
  });

  it('fails the build (the tsup esbuild plugin) with the script and the line', async () => {
    write({ 'build/entry.ts': "import source from './get-count.lua';\nconsole.log(source);\n" });
    write({ 'build/get-count.lua': script });
    const bundle = () =>
      build({
        entryPoints: [join(dir, 'build/entry.ts')],
        bundle: true,
        write: false,
        logLevel: 'silent',
        plugins: [luaIncludes],
      });
    await expect(bundle()).rejects.toThrow(/build\/get-count\.lua:6: @include bump-counter\.lua: no such file/);
    write({ 'build/bump-counter.lua': counter });
    const [output] = (await bundle()).outputFiles;
    expect(output?.text).toContain('-- begin bump-counter.lua');
    expect(output?.text).not.toContain('@include');
  });

  it("expands lock's fencing token and leaderboard's union prelude", () => {
    const source = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
    for (const name of ['acquire-lock', 'acquire-permit', 'acquire-read-lock', 'acquire-write-lock']) {
      const { source: text } = expand(source(`lock/src/scripts/${name}.lua`));
      expect(text).toContain('local function next_fencing_token(time)');
      expect(text).toMatch(/-- end fencing-token\.lua\nreturn next_fencing_token\(/);
    }
    for (const name of ['read-range', 'read-member', 'count-members']) {
      expect(expand(source(`leaderboard/src/scripts/${name}.lua`)).source).toContain(
        "-- begin union-prelude.lua\nif #KEYS > 4 and redis.call('EXISTS', KEYS[1]) == 0 then",
      );
    }
  });
});
