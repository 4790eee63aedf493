import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './packed.js';

/**
 * The built packages carry their Lua scripts with every `-- @include x.lua`
 * line expanded (scripts/lua-include.ts, through tsup.base.ts). Run after
 * `npm run build`.
 */
const distFiles = readdirSync(join(repoRoot, 'packages'))
  .map((name) => join(repoRoot, 'packages', name, 'dist'))
  .filter((dist) => existsSync(dist))
  .flatMap((dist) => readdirSync(dist).map((file) => join(dist, file)))
  .filter((file) => /\.c?js$/.test(file));

/** A directive inside a bundled Lua string: after the string's opening quote or an escaped newline. */
const leftDirective = /(?:\\n|["'`])[ \t]*--[ \t]*@include[ \t]/;

const occurrences = (pkg: string, extension: string, text: string) =>
  distFiles
    .filter((file) => file.includes(`/packages/${pkg}/dist/`) && file.endsWith(extension))
    .reduce((count, file) => count + readFileSync(file, 'utf8').split(text).length - 1, 0);

describe('Lua includes in the built packages', () => {
  it('leave no @include line in any dist file', () => {
    expect(distFiles.length).toBeGreaterThan(0);
    expect(distFiles.filter((file) => leftDirective.test(readFileSync(file, 'utf8')))).toEqual([]);
  });

  it.each(['.js', '.cjs'])("lock's and leaderboard's %s builds carry the expanded text", (extension) => {
    // acquire-lock, acquire-permit, acquire-read-lock, acquire-write-lock
    expect(occurrences('lock', extension, '-- begin fencing-token.lua\\n')).toBe(4);
    expect(occurrences('lock', extension, 'local function next_fencing_token(time)')).toBe(4);
    // read-range, read-member, count-members
    expect(occurrences('leaderboard', extension, '-- begin union-prelude.lua\\nif #KEYS > 4')).toBe(3);
    // read-range, scan-board
    expect(occurrences('leaderboard', extension, 'local function append_entries(')).toBe(2);
  });
});
