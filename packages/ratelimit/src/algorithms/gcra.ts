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
  algorithm: z.literal('gcra'),
  name: policyName,
  /** Requests per `period` at the steady rate. */
  limit: positiveInt(),
  period: windowSchema(),
  /** Requests admitted at once from rest. @default 1 (perfectly smooth) */
  burst: positiveInt().default(1),
});

type Gcra = z.output<typeof schema> & { name: string };

/** The fallback's state: the theoretical arrival time. */
interface State {
  tat?: number;
}

/**
 * GCRA: the theoretical arrival time (TAT) moves one emission interval per
 * unit; a request is admitted while the TAT stays within `burst` intervals of now.
 */
function lua({ limit, period, burst }: Gcra): PolicyLua {
  const interval = period / limit;
  const I = num(interval);
  const span = num(burst * interval);
  const remainingAt = (tat: string) => `math.max(0, ${luaFloor(`(now - (${tat} - ${span})) / ${I}`)})`;
  return {
    needsClock: true,
    evaluate: `local tat$ = math.max(now, tonumber(redis.call('GET', KEY) or '0'))
local new_tat$ = tat$ + ${I} * cost
local allowed$ = new_tat$ - ${span} <= now`,
    write: `redis.call('SET', KEY, string.format('%.3f', new_tat$), 'PX', math.max(1, ${luaCeil('(new_tat$ - now)')}))`,
    undo: '',
    before: {
      remaining: remainingAt('tat$'),
      reset: `math.max(0, ${luaCeil('(tat$ - now)')})`,
      retry: `(allowed$ and 0 or ${luaCeil(`(new_tat$ - ${span} - now)`)})`,
    },
    after: { remaining: remainingAt('new_tat$'), reset: `math.max(0, ${luaCeil('(new_tat$ - now)')})` },
  };
}

function evaluate({ limit, period, burst }: Gcra, state: State, now: number, cost: number): MemoryEvaluation {
  const interval = period / limit;
  const tat = Math.max(state.tat ?? 0, now);
  const newTat = tat + interval * cost;
  const allowAt = newTat - burst * interval;
  const allowed = allowAt <= now;
  const remainingAt = (at: number) => clamp0(Math.floor((now - (at - burst * interval)) / interval + 1e-9));
  return {
    allowed,
    limit: burst,
    retry: allowed ? 0 : ceil(allowAt - now),
    remaining: remainingAt(tat),
    reset: clamp0(ceil(tat - now)),
    remainingAfter: remainingAt(newTat),
    resetAfter: clamp0(ceil(newTat - now)),
    write: () => {
      state.tat = newTat;
    },
  };
}

export const gcra: RateLimitAlgorithm<Gcra, State> = {
  lease: false,
  needsRequestId: false,
  capacity: (policy) => policy.burst,
  scale: (policy, share) => ({ ...policy, limit: scaled(policy.limit, share), burst: scaled(policy.burst, share) }),
  lua,
  // The TAT moves back one emission interval per unit, never before now.
  refund: ({ limit, period }) => {
    const I = num(period / limit);
    return {
      needsClock: true,
      give: `do
  local tat = tonumber(redis.call('GET', KEY) or '0')
  if tat > now then
    tat = math.max(now, tat - ${I} * units)
    if tat > now then
      redis.call('SET', KEY, string.format('%.3f', tat), 'PX', math.max(1, math.ceil(tat - now)))
    else
      redis.call('DEL', KEY)
    end
    changed = changed + 1
  end
end`,
    };
  },
  evaluate,
  // The burst is admitted at once and earned back at limit / period.
  quota: ({ burst, period, limit }) => ({ quota: burst, windowSeconds: windowSeconds((period * burst) / limit) }),
};
