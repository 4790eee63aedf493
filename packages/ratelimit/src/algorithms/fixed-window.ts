import { z } from 'zod';
import {
  clamp0,
  type MemoryEvaluation,
  num,
  type PolicyLua,
  policyName,
  positiveInt,
  type RateLimitAlgorithm,
  scaled,
  windowSchema,
  windowSeconds,
} from './algorithm.js';

export const schema = z.object({
  algorithm: z.literal('fixed-window'),
  name: policyName,
  /** Units admitted per window. */
  limit: positiveInt(),
  window: windowSchema(),
  /**
   * `clock`: windows aligned to the clock (every minute on the minute).
   * `first-hit`: a subject's window starts with its first request.
   * @default "clock"
   */
  align: z.enum(['clock', 'first-hit']).default('clock'),
});

type FixedWindow = z.output<typeof schema> & { name: string };

/** The fallback's state: the window's count and when it ends. */
interface State {
  count?: number;
  expiresAt?: number;
}

/**
 * A counter per window. When consuming it counts first and takes the count
 * back if the request is denied (`undo`): one command fewer than reading
 * first, and nobody sees the count in between (the script is atomic).
 */
function lua({ limit, window, align }: FixedWindow): PolicyLua {
  const L = num(limit);
  const W = num(window);
  const ttl =
    align === 'clock'
      ? `local ttl$ = (math.floor(now / ${W}) + 1) * ${W} - now
if consume and count$ == 0 then redis.call('PEXPIRE', KEY, ttl$) end`
      : // A missing key (or, when consuming, one just created) has no expiry: its window starts now.
        `local ttl$ = redis.call('PTTL', KEY)
if ttl$ < 0 then
  if consume then redis.call('PEXPIRE', KEY, ${W}) else count$ = 0 end
  ttl$ = ${W}
end`;
  return {
    needsClock: align === 'clock',
    evaluate: `local count$
if consume then count$ = redis.call('INCRBY', KEY, cost) - cost else count$ = tonumber(redis.call('GET', KEY) or '0') end
${ttl}
local allowed$ = count$ + cost <= ${L}`,
    write: '',
    undo: `if count$ == 0 then redis.call('DEL', KEY) else redis.call('DECRBY', KEY, cost) end`,
    before: {
      remaining: `math.max(0, ${L} - count$)`,
      reset: `(count$ > 0 and ttl$ or 0)`,
      retry: `(allowed$ and 0 or ttl$)`,
    },
    after: { remaining: `math.max(0, ${L} - count$ - cost)`, reset: 'ttl$' },
  };
}

function evaluate(policy: FixedWindow, state: State, now: number, cost: number): MemoryEvaluation {
  const { limit, window } = policy;
  const live = state.expiresAt !== undefined && now < state.expiresAt;
  const count = live ? (state.count ?? 0) : 0;
  let reset: number;
  if (policy.align === 'clock') reset = (Math.floor(now / window) + 1) * window - now;
  else reset = live ? (state.expiresAt as number) - now : window;
  const allowed = count + cost <= limit;
  return {
    allowed,
    limit,
    retry: allowed ? 0 : reset,
    remaining: clamp0(limit - count),
    reset: count > 0 ? reset : 0,
    remainingAfter: clamp0(limit - count - cost),
    resetAfter: reset,
    write: () => {
      state.count = count + cost;
      if (count === 0) state.expiresAt = now + reset;
    },
  };
}

export const fixedWindow: RateLimitAlgorithm<FixedWindow, State> = {
  lease: false,
  needsRequestId: false,
  capacity: (policy) => policy.limit,
  scale: (policy, share) => ({ ...policy, limit: scaled(policy.limit, share) }),
  lua,
  refund: () => ({
    needsClock: false,
    give: `do
  local count = tonumber(redis.call('GET', KEY) or '0')
  if count > 0 then
    redis.call('SET', KEY, math.max(0, count - units), 'KEEPTTL')
    changed = changed + 1
  end
end`,
  }),
  evaluate,
  quota: (policy) => ({ quota: policy.limit, windowSeconds: windowSeconds(policy.window) }),
};
