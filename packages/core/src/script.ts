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
  /** How many KEYS the header declares; calls must pass exactly that many. */
  readonly numberOfKeys: number;
  /** Only a type carrier for `Reply`; always undefined at run time. */
  readonly reply?: Reply;
}

const namePattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;
const keysLine = /^--\s*KEYS\[(\d+)\]/;
const replyLine = /^--\s*(Reply|Returns?)\b/i;

/**
 * Reads the leading comment block of a script. It must list each `KEYS[n]`
 * (numbered from 1 without gaps) and a `Reply:` line, so a reader of the file
 * knows its contract without reading the body.
 */
function parseHeader(name: string, source: string): { numberOfKeys: number } {
  const header: string[] = [];
  for (const line of source.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('--')) break;
    header.push(trimmed);
  }
  const keyIndexes = header
    .map((line) => keysLine.exec(line)?.[1])
    .filter((index) => index !== undefined)
    .map(Number);
  keyIndexes.forEach((index, position) => {
    if (index !== position + 1) {
      throw new TypeError(`script ${name}: header lists KEYS[${index}] where KEYS[${position + 1}] was expected`);
    }
  });
  if (!header.some((line) => replyLine.test(line))) {
    throw new TypeError(`script ${name}: header has no "-- Reply:" line describing what it returns`);
  }
  return { numberOfKeys: keyIndexes.length };
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
  const { numberOfKeys } = parseHeader(name, source);
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    name,
    commandName: `rk_${name.replace(/-/g, '_')}_${sha.slice(0, 8)}`,
    source,
    sha,
    numberOfKeys,
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
