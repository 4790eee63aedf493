import type { Scenario } from '../scenario.js';
import { admitAll, redkitVariant } from './ratelimit-variants.js';
import { randomSubjects } from './subjects.js';

const policy = { algorithm: 'fixed-window', limit: admitAll, window: '1m', align: 'first-hit' } as const;

/**
 * What the limiter's opt-in `replicas` protection costs: the same check with
 * and without a `WAIT` for one replica after each admission. Cluster only
 * (the standalone target has no replica to wait for).
 */
export const rateLimitReplicated: Scenario = {
  name: 'ratelimit-replicated',
  title: 'fixed-window rate limit with and without waiting for a replica',
  description:
    'One rate-limit check per operation on 10,000 random subjects, as in `ratelimit-fixed-window`. `redkit` is ' +
    "`RateLimiter` with one `fixed-window` policy; `redkit-wait-replica` adds `replicas: { count: 1, timeout: '100ms' }`: " +
    'after each admission the limiter sends `WAIT 1 100` to the master that counted it, so the count is on a replica ' +
    'before the request is let in (the protection against a crash right after a full resync, docs/ratelimit.md). ' +
    'The difference is the price of that guarantee: one more round trip, which lasts until the replica acknowledged. ' +
    'Run on the cluster only: the standalone server has no replica, so every check there would be a shortfall.',
  baseline: 'redkit',
  variants: ({ redis, topology }) =>
    topology === 'standalone'
      ? [redkitVariant('redkit', redis, 'bench-rk-rep', [policy], randomSubjects)]
      : [
          redkitVariant('redkit', redis, 'bench-rk-rep', [policy], randomSubjects),
          redkitVariant('redkit-wait-replica', redis, 'bench-rk-rep-wait', [policy], randomSubjects, {
            replicas: { count: 1, timeout: '100ms' },
          }),
        ],
};
