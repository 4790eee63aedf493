import { z } from 'zod';
import {
  ceil,
  clamp0,
  luaCeil,
  luaFloor,
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
  algorithm: z.literal('sliding-window'),
  name: policyName,
  limit: positiveInt(),
  window: windowSchema(),
});

type SlidingWindow = z.output<typeof schema> & { name: string };

/** The fallback's state: the current window's index and counts, and when they expire. */
interface State {
  window?: number;
  current?: number;
  previous?: number;
  expiresAt?: number;
}

/**
 * Sliding window counter: the previous window's count, weighted by how much
 * of it still overlaps the sliding window, plus the current window's count.
 */
function lua({ limit, window }: SlidingWindow): PolicyLua {
  const L = num(limit);
  const W = num(window);
  return {
    needsClock: true,
    evaluate: `local index$ = math.floor(now / ${W})
local current$, previous$ = 0, 0
do
  local state = redis.call('HMGET', KEY, 'w', 'c', 'p')
  local w = tonumber(state[1])
  if w == index$ then current$, previous$ = tonumber(state[2]) or 0, tonumber(state[3]) or 0
  elseif w == index$ - 1 then previous$ = tonumber(state[2]) or 0 end
end
local elapsed$ = now - index$ * ${W}
local used$ = previous$ * (${W} - elapsed$) / ${W} + current$
local allowed$ = used$ + cost <= ${L}
local retry$ = 0
if not allowed$ then
  if current$ + cost <= ${L} then
    -- Wait in this window until enough of the previous one has slid out.
    retry$ = ${luaCeil(`${W} * (1 - (${L} - current$ - cost) / previous$)`)} - elapsed$
  else
    -- Wait into the next window, where this window's count is the previous one.
    retry$ = (${W} - elapsed$) + ${luaCeil(`${W} * (1 - (${L} - cost) / current$)`)}
  end
  if retry$ < 1 then retry$ = 1 end
end`,
    write: `redis.call('HSET', KEY, 'w', index$, 'c', current$ + cost, 'p', previous$)
redis.call('PEXPIRE', KEY, (${W} - elapsed$) + ${W})`,
    undo: '',
    before: {
      remaining: `math.max(0, ${luaFloor(`${L} - used$`)})`,
      reset: `(current$ > 0 and (${W} - elapsed$) + ${W} or (previous$ > 0 and ${W} - elapsed$ or 0))`,
      retry: 'retry$',
    },
    after: {
      remaining: `math.max(0, math.max(0, ${luaFloor(`${L} - used$`)}) - cost)`,
      reset: `(${W} - elapsed$) + ${W}`,
    },
  };
}

function evaluate({ limit, window }: SlidingWindow, state: State, now: number, cost: number): MemoryEvaluation {
  const index = Math.floor(now / window);
  let current = state.current ?? 0;
  let previous = state.previous ?? 0;
  if (state.window === undefined || (state.expiresAt ?? 0) <= now) [current, previous] = [0, 0];
  else if (state.window === index - 1) [previous, current] = [current, 0];
  else if (state.window !== index) [current, previous] = [0, 0];
  const elapsed = now - index * window;
  const used = (previous * (window - elapsed)) / window + current;
  const allowed = used + cost <= limit;
  let retry = 0;
  if (!allowed) {
    retry =
      current + cost <= limit
        ? ceil(window * (1 - (limit - current - cost) / previous)) - elapsed
        : window - elapsed + ceil(window * (1 - (limit - cost) / current));
    if (retry < 1) retry = 1;
  }
  let reset = 0;
  if (current > 0) reset = window - elapsed + window;
  else if (previous > 0) reset = window - elapsed;
  const remaining = clamp0(Math.floor(limit - used + 1e-9));
  return {
    allowed,
    limit,
    retry,
    remaining,
    reset,
    remainingAfter: clamp0(remaining - cost),
    resetAfter: window - elapsed + window,
    write: () => {
      Object.assign(state, {
        window: index,
        current: current + cost,
        previous,
        expiresAt: now + window - elapsed + window,
      });
    },
  };
}

export const slidingWindow: RateLimitAlgorithm<SlidingWindow, State> = {
  lease: false,
  needsRequestId: false,
  capacity: (policy) => policy.limit,
  scale: (policy, share) => ({ ...policy, limit: scaled(policy.limit, share) }),
  lua,
  refund: () => ({
    needsClock: false,
    give: `do
  local current = tonumber(redis.call('HGET', KEY, 'c') or '0')
  if current > 0 then
    redis.call('HSET', KEY, 'c', math.max(0, current - units))
    changed = changed + 1
  end
end`,
  }),
  evaluate,
  quota: (policy) => ({ quota: policy.limit, windowSeconds: windowSeconds(policy.window) }),
};
