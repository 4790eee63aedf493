import { readFileSync } from 'node:fs';
import { defineScript, driverFor, Keyspace } from '@redkit/core';
import type { Scenario, Target, Variant } from '../scenario.js';
import { loadOnEveryMaster } from './load-script.js';
import { randomIndexes } from './subjects.js';

// Read at start-up: bench runs under tsx, not the tsup build that inlines .lua files in packages.
const countHit = defineScript<number>(
  'count-hit',
  readFileSync(new URL('./scripts/count-hit.lua', import.meta.url), 'utf8'),
);

const subjects = 10_000;
const windowMs = 60_000;
const keyspace = new Keyspace('bench');
const keys = Array.from({ length: subjects }, (_, i) => keyspace.key(`s${i}`, 'n'));
// Both variants walk the same sequence of keys, so they touch the same slots and nodes.
const sequence = randomIndexes(1 << 16, subjects);
const keyOf = (i: number): string => keys[sequence[i % sequence.length] as number] as string;

function assertCount(reply: unknown, variant: string): void {
  if (typeof reply !== 'number' || !Number.isInteger(reply) || reply < 1) {
    throw new Error(`${variant}: expected a count ≥ 1 from count-hit, got ${JSON.stringify(reply)}`);
  }
}

function variants({ redis }: Target): Variant[] {
  const driver = driverFor(redis);
  const args = [windowMs] as const;
  return [
    {
      name: 'raw-evalsha',
      async setup() {
        // SCRIPT LOAD on every master, so the baseline never needs an EVAL fallback.
        const sha = await loadOnEveryMaster(redis, countHit.source);
        if (sha !== countHit.sha) throw new Error(`SCRIPT LOAD returned ${sha}, expected ${countHit.sha}`);
        assertCount(await redis.evalsha(countHit.sha, 1, keyOf(0), ...args), 'raw-evalsha');
      },
      run: (i) => redis.evalsha(countHit.sha, 1, keyOf(i), ...args),
    },
    {
      name: 'redkit',
      async setup() {
        assertCount(await driver.script(countHit, [keyOf(0)], args), 'redkit');
      },
      run: (i) => driver.script(countHit, [keyOf(i)], args),
    },
  ];
}

/** The cost of calling a script through @redkit/core's driver instead of ioredis directly. */
export const coreScript: Scenario = {
  name: 'core-script',
  title: 'core script call vs raw EVALSHA',
  description:
    'A fixed-window counter script (INCR, then PEXPIRE NX; reply = the count) on one of 10,000 random keys ' +
    '`bench:{s<i>}:n` per operation. `redkit` calls it through `driverFor(redis).script()` (ioredis ' +
    '`defineCommand`, EVALSHA with EVAL fallback, error mapping); `raw-evalsha` is the minimum: ' +
    '`redis.evalsha(sha, 1, key, window)` after `SCRIPT LOAD` on every master. Both share one client, so the ' +
    'ratio is the overhead of the driver layer alone.',
  baseline: 'raw-evalsha',
  variants,
};
