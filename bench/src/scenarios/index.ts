import type { Scenario } from '../scenario.js';
import { coreScript } from './core-script.js';

/** Every scenario `--scenario` can name, in the order they run and appear in docs/benchmarks.md. */
export const scenarios: ReadonlyMap<string, Scenario> = new Map([[coreScript.name, coreScript]]);
