import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { type HeaderEntry, parseHeader, type ScriptHeader } from '../packages/core/src/script.js';

/**
 * Lua includes, resolved at build time. The one implementation behind both
 * the build (the esbuild plugin in tsup.base.ts) and the tests (the vite
 * plugin in vitest.config.ts); none of it ships, the packages get the
 * expanded text.
 *
 * In a script (`src/scripts/verb-noun.lua`), a line
 *
 * ```lua
 * -- @include fencing-token.lua
 * ```
 *
 * is replaced by that file's code (the path is relative to the script's
 * folder), between `-- begin fencing-token.lua` and `-- end fencing-token.lua`
 * and indented like the line. Line numbers in Redis errors then count the
 * expanded text.
 *
 * An included file opens with a header of its own (its leading comment
 * lines, up to the first blank or code line; not copied): a first line
 * `-- fencing-token: what it does`, then a `-- KEYS[n] …` or `-- ARGV[n] …`
 * line for each key and argument it reads (`[n...]`: n and any after it).
 * It shares the script's KEYS and ARGV, so those must mean the same in every
 * script that includes it; anything else it needs comes in through Lua
 * locals or function parameters, and what it defines has a clear name
 * (`local function next_fencing_token(time)`). An included file cannot
 * include another one (include both from the script), nor can a script
 * include one file twice.
 *
 * The header check, so that an include can neither hide a key from the
 * script's header nor change it. Every failure names the file and line:
 * 1. each `@include` line is well-formed and names a file that exists;
 * 2. the included file is well-formed: its header's first line names it, and
 *    every `KEYS[n]` / `ARGV[n]` its code reads is in its header;
 * 3. the script's header declares every KEYS and ARGV entry of the included
 *    file's header (`KEYS[n]` is covered by `KEYS[n]` or by `KEYS[m...]`, m ≤ n);
 * 4. the expanded script passes core's header check (`parseHeader`: KEYS
 *    from 1 without gaps, a Reply line) and declares exactly what the script
 *    did before expansion.
 * At run time `defineScript` refuses a script that still has an `@include` line.
 */

/** A script's text after its includes were expanded, and the files it took them from (for watch mode). */
export interface ExpandedLua {
  readonly source: string;
  readonly includes: readonly string[];
}

/** An include that cannot be expanded; the message names the file and line (`src/scripts/x.lua:12: …`). */
export class LuaIncludeError extends Error {
  override name = 'LuaIncludeError';
}

const directive = /^(\s*)--\s*@include\b(.*)$/;
const includePath = /^\s+([\w-]+(?:\/[\w-]+)*\.lua)\s*$/;
const codeReference = /\b(KEYS|ARGV)\[(\d+)\]/g;
const headerEntry = /^--\s*(KEYS|ARGV)\[(\d+)(\.\.\.)?\]/;

const where = (file: string, line?: number) => `${relative(process.cwd(), file)}${line ? `:${line}` : ''}`;
const show = (kind: string, entry: HeaderEntry) => `${kind}[${entry.index}${entry.variadic ? '...' : ''}]`;
/** Whether a declared entry covers a used one: the same index, or a variadic one from at most that index. */
const covers = (declared: HeaderEntry, used: HeaderEntry) =>
  declared.variadic ? declared.index <= used.index : !used.variadic && declared.index === used.index;

interface IncludedFile {
  readonly keys: HeaderEntry[];
  readonly argv: HeaderEntry[];
  readonly code: string[];
}

/** Reads and checks an included file (rule 2). */
function readIncluded(file: string): IncludedFile {
  const lines = readFileSync(file, 'utf8').replace(/\r\n/g, '\n').split('\n');
  const name = basename(file, '.lua');
  let end = 0;
  while (end < lines.length && lines[end]?.trim().startsWith('--')) end++;
  const header = lines.slice(0, end).map((line) => line.trim());
  if (!new RegExp(`^--\\s*${name}:`).test(header[0] ?? '')) {
    throw new LuaIncludeError(
      `${where(file, 1)}: an included file opens with a header line "-- ${name}: what it does"`,
    );
  }
  const declared: IncludedFile = { keys: [], argv: [], code: lines.slice(end) };
  for (const line of header) {
    const match = headerEntry.exec(line);
    if (match) declared[match[1] === 'KEYS' ? 'keys' : 'argv'].push({ index: Number(match[2]), variadic: !!match[3] });
  }
  declared.code.forEach((line, offset) => {
    const lineNumber = end + offset + 1;
    if (directive.test(line)) {
      throw new LuaIncludeError(
        `${where(file, lineNumber)}: an included file cannot @include another (include both from the script)`,
      );
    }
    for (const [, kind, index] of line.replace(/--.*$/, '').matchAll(codeReference)) {
      const used = { index: Number(index), variadic: false };
      if (!declared[kind === 'KEYS' ? 'keys' : 'argv'].some((entry) => covers(entry, used))) {
        throw new LuaIncludeError(
          `${where(file, lineNumber)}: reads ${show(kind ?? '', used)}, which its header does not list`,
        );
      }
    }
  });
  while (declared.code.length > 0 && declared.code[0]?.trim() === '') declared.code.shift();
  while (declared.code.length > 0 && declared.code.at(-1)?.trim() === '') declared.code.pop();
  if (declared.code.length === 0) throw new LuaIncludeError(`${where(file)}: an included file has no code`);
  return declared;
}

function headerOf(file: string, source: string): ScriptHeader {
  try {
    return parseHeader(basename(file, '.lua'), source);
  } catch (error) {
    throw new LuaIncludeError(`${where(file)}: ${(error as Error).message}`);
  }
}

/**
 * Expands the `-- @include x.lua` lines of the script at `file` (whose text is
 * `source`) and checks the result (see the rules above). A script without
 * any comes back unchanged and unchecked.
 *
 * @throws LuaIncludeError naming the script (or included file) and the line.
 */
export function expandLuaIncludes(file: string, source: string): ExpandedLua {
  if (!source.includes('@include')) return { source, includes: [] };
  const lines = source.replace(/\r\n/g, '\n').split('\n');
  const script = headerOf(file, source);
  const includes: string[] = [];
  const expanded = lines.flatMap((line, position) => {
    const match = directive.exec(line);
    if (!match) return [line];
    const at = where(file, position + 1);
    const path = includePath.exec(match[2] ?? '')?.[1];
    if (!path) throw new LuaIncludeError(`${at}: expected "-- @include name.lua", found "${line.trim()}"`);
    const included = resolve(dirname(file), path);
    if (!existsSync(included)) throw new LuaIncludeError(`${at}: @include ${path}: no such file (${where(included)})`);
    if (includes.includes(included)) throw new LuaIncludeError(`${at}: @include ${path}: already included`);
    includes.push(included);
    const { keys, argv, code } = readIncluded(included);
    for (const [kind, used, declared] of [
      ['KEYS', keys, script.keys],
      ['ARGV', argv, script.argv],
    ] as const) {
      const missing = used.find((entry) => !declared.some((own) => covers(own, entry)));
      if (missing) {
        throw new LuaIncludeError(
          `${at}: @include ${path} reads ${show(kind, missing)}, which the script's header does not declare`,
        );
      }
    }
    const indent = match[1] ?? '';
    return [
      `${indent}-- begin ${path}`,
      ...code.map((text) => (text.trim() === '' ? '' : indent + text)),
      `${indent}-- end ${path}`,
    ];
  });
  const result = expanded.join('\n');
  const after = headerOf(file, result);
  if (JSON.stringify([after.keys, after.argv]) !== JSON.stringify([script.keys, script.argv])) {
    throw new LuaIncludeError(
      `${where(file)}: an include changes the script's header (its code begins with KEYS/ARGV comment lines right after the header); put code before it`,
    );
  }
  return { source: result, includes };
}
