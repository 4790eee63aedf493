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

/**
 * The sliding log keeps one sorted-set entry per admitted unit, so its limit
 * is capped to keep memory per subject bounded (~80 bytes per entry).
 */
export const slidingLogMaxLimit = 10_000;

export const schema = z.object({
  algorithm: z.literal('sliding-log'),
  name: policyName,
  limit: positiveInt(slidingLogMaxLimit),
  window: windowSchema(),
});

type SlidingLog = z.output<typeof schema> & { name: string };

/** The fallback's state: when each admitted unit came in. */
interface State {
  entries?: number[];
}

/** Sliding log: one sorted-set entry per admitted unit, scored by time. */
function lua({ limit, window }: SlidingLog): PolicyLua {
  const L = num(limit);
  const W = num(window);
  return {
    needsClock: true,
    evaluate: `redis.call('ZREMRANGEBYSCORE', KEY, '-inf', now - ${W})
local count$ = redis.call('ZCARD', KEY)
local allowed$ = count$ + cost <= ${L}`,
    write: `for unit = 1, cost do redis.call('ZADD', KEY, now, request_id .. ':' .. unit) end
redis.call('PEXPIRE', KEY, ${W})`,
    undo: '',
    before: {
      remaining: `math.max(0, ${L} - count$)`,
      // The newest entry leaves the window last (0 when there is none).
      reset: `(tonumber(redis.call('ZRANGE', KEY, -1, -1, 'WITHSCORES')[2]) or now - ${W}) + ${W} - now`,
      // The entry whose expiry frees enough room for this request.
      retry: `(allowed$ and 0 or tonumber(redis.call('ZRANGE', KEY, count$ + cost - ${L} - 1, count$ + cost - ${L} - 1, 'WITHSCORES')[2]) + ${W} - now)`,
    },
    after: { remaining: `math.max(0, ${L} - count$ - cost)`, reset: W },
  };
}

function evaluate({ limit, window }: SlidingLog, state: State, now: number, cost: number): MemoryEvaluation {
  const entries = (state.entries ?? []).filter((time) => time > now - window);
  state.entries = entries;
  const count = entries.length;
  const allowed = count + cost <= limit;
  return {
    allowed,
    limit,
    retry: allowed ? 0 : (entries[count + cost - limit - 1] as number) + window - now,
    remaining: clamp0(limit - count),
    reset: count > 0 ? (entries[count - 1] as number) + window - now : 0,
    remainingAfter: clamp0(limit - count - cost),
    resetAfter: window,
    write: () => {
      for (let unit = 0; unit < cost; unit++) entries.push(now);
    },
  };
}

export const slidingLog: RateLimitAlgorithm<SlidingLog, State> = {
  lease: false,
  needsRequestId: true,
  capacity: (policy) => policy.limit,
  scale: (policy, share) => ({ ...policy, limit: scaled(policy.limit, share) }),
  lua,
  // The newest entries go first.
  refund: () => ({
    needsClock: false,
    give: `if #redis.call('ZPOPMAX', KEY, units) > 0 then changed = changed + 1 end`,
  }),
  evaluate,
  quota: (policy) => ({ quota: policy.limit, windowSeconds: windowSeconds(policy.window) }),
};
