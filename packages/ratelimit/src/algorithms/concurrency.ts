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
} from './algorithm.js';

export const schema = z.object({
  algorithm: z.literal('concurrency'),
  name: policyName,
  /** Most leases held at once. */
  limit: positiveInt(),
  /** A lease whose holder never releases it (it crashed) expires after this. */
  leaseTtl: windowSchema(),
});

type Concurrency = z.output<typeof schema> & { name: string };

/** The fallback's state: each lease's expiry, by lease id. */
interface State {
  leases?: Map<string, number>;
}

/** Concurrency: leases scored by their expiry, so a crashed holder's lease stops counting after its ttl. */
function lua({ limit, leaseTtl }: Concurrency): PolicyLua {
  const L = num(limit);
  const T = num(leaseTtl);
  // The lease expiring last; after this request's, that is at least its ttl.
  const lastExpiry = `math.max(0, (tonumber(redis.call('ZRANGE', KEY, -1, -1, 'WITHSCORES')[2]) or now) - now)`;
  return {
    needsClock: true,
    evaluate: `redis.call('ZREMRANGEBYSCORE', KEY, '-inf', now)
local count$ = redis.call('ZCARD', KEY)
local allowed$ = count$ + cost <= ${L}`,
    write: `for unit = 1, cost do redis.call('ZADD', KEY, now + ${T}, request_id .. ':' .. unit) end
if redis.call('PTTL', KEY) < ${T} then redis.call('PEXPIRE', KEY, ${T}) end`,
    undo: '',
    before: {
      remaining: `math.max(0, ${L} - count$)`,
      reset: lastExpiry,
      // The lease expiring first frees a slot.
      retry: `(allowed$ and 0 or math.max(0, (tonumber(redis.call('ZRANGE', KEY, 0, 0, 'WITHSCORES')[2]) or now + 1) - now))`,
    },
    after: { remaining: `math.max(0, ${L} - count$ - cost)`, reset: lastExpiry },
  };
}

function evaluate(
  { limit, leaseTtl }: Concurrency,
  state: State,
  now: number,
  cost: number,
  id: string,
): MemoryEvaluation {
  const leases = state.leases ?? new Map<string, number>();
  state.leases = leases;
  for (const [lease, expiry] of leases) if (expiry <= now) leases.delete(lease);
  const count = leases.size;
  const allowed = count + cost <= limit;
  const expiries = [...leases.values()];
  const first = expiries.length > 0 ? Math.min(...expiries) : undefined;
  const last = expiries.length > 0 ? Math.max(...expiries) : undefined;
  const reset = last === undefined ? 0 : clamp0(last - now);
  return {
    allowed,
    limit,
    retry: allowed ? 0 : first === undefined ? 1 : clamp0(first - now),
    remaining: clamp0(limit - count),
    reset,
    remainingAfter: clamp0(limit - count - cost),
    resetAfter: Math.max(reset, leaseTtl),
    write: () => {
      for (let unit = 1; unit <= cost; unit++) leases.set(`${id}:${unit}`, now + leaseTtl);
    },
  };
}

export const concurrency: RateLimitAlgorithm<Concurrency, State> = {
  lease: true,
  needsRequestId: true,
  capacity: (policy) => policy.limit,
  scale: (policy, share) => ({ ...policy, limit: scaled(policy.limit, share) }),
  lua,
  // Slots come back by releasing the lease, not by a refund.
  refund: () => undefined,
  evaluate,
  release: (state, id, cost) => {
    for (let unit = 1; unit <= cost; unit++) state.leases?.delete(`${id}:${unit}`);
  },
  // Requests in flight at once have no window.
  quota: (policy) => ({ quota: policy.limit, windowSeconds: undefined }),
};
