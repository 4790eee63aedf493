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
  algorithm: z.literal('token-bucket'),
  name: policyName,
  /** Most tokens the bucket holds (the largest burst). */
  capacity: positiveInt(),
  /** Tokens added every `interval`. */
  refillRate: positiveInt(),
  /** @default "1s" */
  interval: windowSchema().default(1_000),
});

type TokenBucket = z.output<typeof schema> & { name: string };

/** The fallback's state: the tokens left, as of `stamp`. */
interface State {
  tokens?: number;
  stamp?: number;
}

/**
 * Token bucket: tokens refill continuously at `rate` per ms; stored as a
 * fraction so no refill is lost between calls.
 */
function lua({ capacity, refillRate, interval }: TokenBucket): PolicyLua {
  const C = num(capacity);
  const R = num(refillRate / interval);
  return {
    needsClock: true,
    evaluate: `local tokens$ = ${C}
do
  local state = redis.call('HMGET', KEY, 't', 'ts')
  local tokens, stamp = tonumber(state[1]), tonumber(state[2])
  if tokens ~= nil and stamp ~= nil then tokens$ = math.min(${C}, tokens + math.max(0, now - stamp) * ${R}) end
end
local allowed$ = tokens$ >= cost`,
    write: `redis.call('HSET', KEY, 't', tokens$ - cost, 'ts', now)
-- Once full again the state equals a missing key, so let it expire then.
redis.call('PEXPIRE', KEY, math.max(1, ${luaCeil(`(${C} - tokens$ + cost) / ${R}`)}))`,
    undo: '',
    before: {
      remaining: `math.max(0, ${luaFloor('tokens$')})`,
      reset: `math.max(0, ${luaCeil(`(${C} - tokens$) / ${R}`)})`,
      retry: `(allowed$ and 0 or ${luaCeil(`(cost - tokens$) / ${R}`)})`,
    },
    after: {
      remaining: `math.max(0, ${luaFloor('(tokens$ - cost)')})`,
      reset: `math.max(0, ${luaCeil(`(${C} - tokens$ + cost) / ${R}`)})`,
    },
  };
}

function evaluate(policy: TokenBucket, state: State, now: number, cost: number): MemoryEvaluation {
  const { capacity, refillRate, interval } = policy;
  const rate = refillRate / interval;
  const tokens =
    state.tokens === undefined || state.stamp === undefined
      ? capacity
      : Math.min(capacity, state.tokens + Math.max(0, now - state.stamp) * rate);
  const allowed = tokens >= cost;
  const after = tokens - cost;
  return {
    allowed,
    limit: capacity,
    retry: allowed ? 0 : ceil((cost - tokens) / rate),
    remaining: clamp0(Math.floor(tokens + 1e-9)),
    reset: clamp0(ceil((capacity - tokens) / rate)),
    remainingAfter: clamp0(Math.floor(after + 1e-9)),
    resetAfter: clamp0(ceil((capacity - after) / rate)),
    write: () => {
      state.tokens = after;
      state.stamp = now;
    },
  };
}

export const tokenBucket: RateLimitAlgorithm<TokenBucket, State> = {
  lease: false,
  needsRequestId: false,
  capacity: (policy) => policy.capacity,
  scale: (policy, share) => ({
    ...policy,
    capacity: scaled(policy.capacity, share),
    refillRate: scaled(policy.refillRate, share),
  }),
  lua,
  // Refilled to now first, then the units go back (never above capacity).
  refund: ({ capacity, refillRate, interval }) => {
    const C = num(capacity);
    const R = num(refillRate / interval);
    return {
      needsClock: true,
      give: `do
  local state = redis.call('HMGET', KEY, 't', 'ts')
  local tokens, stamp = tonumber(state[1]), tonumber(state[2])
  if tokens ~= nil and stamp ~= nil then
    tokens = math.min(${C}, tokens + math.max(0, now - stamp) * ${R} + units)
    redis.call('HSET', KEY, 't', tokens, 'ts', now)
    redis.call('PEXPIRE', KEY, math.max(1, math.ceil((${C} - tokens) / ${R})))
    changed = changed + 1
  end
end`,
    };
  },
  evaluate,
  // A full bucket drains at once and refills in capacity / rate.
  quota: ({ capacity, interval, refillRate }) => ({
    quota: capacity,
    windowSeconds: windowSeconds((capacity * interval) / refillRate),
  }),
};
