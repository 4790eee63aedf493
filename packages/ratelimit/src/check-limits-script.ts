import { defineScript, type LuaScript } from '@redkit/core';
import type { Policy, ResolvedRateLimiterOptions } from './options.js';
import { encodePolicy } from './policy-encoding.js';
import checkLimitsSource from './scripts/check-limits.lua';

/** The configuration lines of check-limits.lua, replaced for each limiter. */
const configLines = 'local POLICIES = {}\nlocal CONSUME_ON_DENY = false\nlocal PENALTY = nil\n';

const scripts = new Map<string, LuaScript<number[]>>();

/**
 * check-limits.lua with one limiter's configuration written in. A call then
 * sends only its cost and request id (ioredis spends ~150 ns per argument, and
 * the script no longer parses its settings or defines unused algorithms), and
 * each distinct configuration is one script in Redis's script cache. Limiters
 * with the same configuration share the script.
 */
export function checkLimitsScript(
  policies: readonly Policy[],
  consumeOnDeny: boolean,
  penalty: ResolvedRateLimiterOptions['penalty'],
): LuaScript<number[]> {
  const table = (values: readonly number[]) => `{${values.join(', ')}}`;
  const config = [
    `local POLICIES = {${policies.map((policy) => table(encodePolicy(policy))).join(', ')}}`,
    `local CONSUME_ON_DENY = ${consumeOnDeny}`,
    `local PENALTY = ${
      penalty
        ? table([
            penalty.threshold,
            penalty.within,
            penalty.block,
            penalty.multiplier,
            penalty.maxBlock,
            penalty.forgetAfter,
          ])
        : 'nil'
    }`,
  ].join('\n');
  const source = checkLimitsSource.replace(configLines, `${config}\n`);
  if (source === checkLimitsSource) throw new Error('check-limits.lua no longer has its configuration lines');
  let script = scripts.get(source);
  if (!script) {
    script = defineScript<number[]>('check-limits', source);
    scripts.set(source, script);
  }
  return script;
}
