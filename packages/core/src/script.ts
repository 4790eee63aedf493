import { createHash } from 'node:crypto';

/**
 * A Lua script with its header parsed. Define one per atomic operation with
 * {@link defineScript}; run it through a driver (`driverFor(redis).script(...)`).
 *
 * `Reply` is the script's reply type as the client decodes it.
 */
export interface LuaScript<Reply = unknown> {
  /** `verb-noun`, from the file name. */
  readonly name: string;
  /** Versioned command name, unique per script text: `rk_<verb_noun>_<sha8>`. */
  readonly commandName: string;
  readonly source: string;
  readonly sha: string;
  /** How many KEYS the header declares; calls must pass exactly that many (at least that many when `variadicKeys`). */
  readonly numberOfKeys: number;
  /**
   * The header ends with `-- KEYS[n...]`: the call passes any number of keys
   * from `n` on (e.g. one per policy). All of them are still declared KEYS.
   */
  readonly variadicKeys: boolean;
  /** Only a type carrier for `Reply`; always undefined at run time. */
  readonly reply?: Reply;
}

const namePattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;
const keysLine = /^--\s*KEYS\[(\d+)(\.\.\.)?\]/;
const argvLine = /^--\s*ARGV\[(\d+)(\.\.\.)?\]/;
const replyLine = /^--\s*(Reply|Returns?)\b/i;
const includeLine = /^\s*--\s*@include\b.*$/m;

/** @internal One `-- KEYS[n]` or `-- ARGV[n]` line of a header; `variadic` for `[n...]`. */
export interface HeaderEntry {
  readonly index: number;
  readonly variadic: boolean;
}

/**
 * @internal What a script's header declares. Read by {@link defineScript} and,
 * at build time, by the Lua `@include` resolver (scripts/lua-include.ts),
 * which holds an include's declared KEYS and ARGV to the including script's.
 */
export interface ScriptHeader {
  /** Every `-- KEYS[n]` line, in order (checked: 1 to n without gaps, only the last variadic). */
  readonly keys: readonly HeaderEntry[];
  /** Every `-- ARGV[n]` line, in order (not checked here). */
  readonly argv: readonly HeaderEntry[];
  /** How many KEYS a call passes at least. */
  readonly numberOfKeys: number;
  readonly variadicKeys: boolean;
}

const entry = (match: RegExpExecArray): HeaderEntry => ({ index: Number(match[1]), variadic: match[2] !== undefined });

/**
 * @internal Reads the leading comment block of a script. It must list each
 * `KEYS[n]` (numbered from 1 without gaps) and a `Reply:` line, so a reader of
 * the file knows its contract without reading the body.
 */
export function parseHeader(name: string, source: string): ScriptHeader {
  const header: string[] = [];
  for (const line of source.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('--')) break;
    header.push(trimmed);
  }
  const keyLines = header.map((line) => keysLine.exec(line)).filter((match) => match !== null);
  keyLines.forEach((match, position) => {
    const index = Number(match[1]);
    if (index !== position + 1) {
      throw new TypeError(`script ${name}: header lists KEYS[${index}] where KEYS[${position + 1}] was expected`);
    }
    if (match[2] && position !== keyLines.length - 1) {
      throw new TypeError(`script ${name}: only the last KEYS line may be variadic (KEYS[${index}...])`);
    }
  });
  const variadicKeys = keyLines.at(-1)?.[2] !== undefined;
  if (!header.some((line) => replyLine.test(line))) {
    throw new TypeError(`script ${name}: header has no "-- Reply:" line describing what it returns`);
  }
  const argv = header.map((line) => argvLine.exec(line)).filter((match) => match !== null);
  return {
    keys: keyLines.map(entry),
    argv: argv.map(entry),
    // A variadic last line means "this key and any after it": at least n - 1 fixed ones.
    numberOfKeys: variadicKeys ? keyLines.length - 1 : keyLines.length,
    variadicKeys,
  };
}

/**
 * Declares a Lua script. Scripts live in `src/scripts/verb-noun.lua` and are
 * inlined at build time (`import source from './scripts/verb-noun.lua'`), so
 * nothing reads files at run time.
 *
 * Header convention (required):
 * ```lua
 * -- take-token: consume tokens from a bucket
 * -- KEYS[1] bucket hash
 * -- KEYS[2...] one key per policy (optional: a variadic last KEYS line)
 * -- ARGV[1] capacity
 * -- Reply: {allowed (0|1), remaining}
 * ```
 *
 * @example
 * ```ts
 * import source from './scripts/take-token.lua'
 * const takeToken = defineScript<[number, number]>('take-token', source)
 * ```
 */
export function defineScript<Reply = unknown>(name: string, source: string): LuaScript<Reply> {
  if (!namePattern.test(name)) {
    throw new TypeError(`script name ${JSON.stringify(name)} must be kebab-case "verb-noun"`);
  }
  // `-- @include x.lua` lines are expanded when the package is built (tsup and
  // vitest share scripts/lua-include.ts); one left here was never expanded.
  const unexpanded = includeLine.exec(source);
  if (unexpanded) {
    throw new TypeError(
      `script ${name}: "${unexpanded[0].trim()}" was not expanded (includes are resolved at build time, not by defineScript)`,
    );
  }
  const { numberOfKeys, variadicKeys } = parseHeader(name, source);
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    name,
    commandName: `rk_${name.replace(/-/g, '_')}_${sha.slice(0, 8)}`,
    source,
    sha,
    numberOfKeys,
    variadicKeys,
  };
}

/** One script call, as seen by {@link onScriptCall} observers. */
export interface ScriptCall {
  readonly script: LuaScript;
  readonly keys: readonly string[];
}

const observers = new Set<(call: ScriptCall) => void>();

/**
 * Observes every script call made through any driver, before it is sent.
 * Meant for tests (e.g. asserting that all KEYS of every call share one slot).
 *
 * @returns a function that stops observing.
 */
export function onScriptCall(observer: (call: ScriptCall) => void): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** @internal Called by drivers. Costs one size check when nobody observes. */
export function notifyScriptCall(script: LuaScript, keys: readonly string[]): void {
  if (observers.size === 0) return;
  for (const observer of observers) observer({ script, keys });
}
