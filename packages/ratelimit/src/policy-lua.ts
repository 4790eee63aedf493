import type { Policy } from './options.js';

/**
 * The Lua one policy contributes to its limiter's check-limits script (see
 * check-limits-script.ts). The code is straight-line with the policy's
 * parameters written in as constants: no closures, result tables or argument
 * parsing per call, which roughly halves the script's own run time.
 *
 * In the snippets, `$` stands for the policy's position (so `count$` becomes
 * `count_2`) and `KEY` for its state key (`KEYS[3]`). Each snippet may read
 * `now` (Redis's clock in ms, when `needsClock`), `consume` (false when
 * peeking) and `cost`.
 */
export interface PolicyLua {
  /** Needs Redis's clock (`now`). */
  readonly needsClock: boolean;
  /** Holds leases: never consumed by a denied request, even with `consumeOnDeny`. */
  readonly lease: boolean;
  /** Statements that look at the state and set the local `allowed$`. */
  readonly evaluate: string;
  /** Statements that consume `cost`; run when the request counts. */
  readonly write: string;
  /** Statements that take back what `evaluate` consumed; run when the request does not count. */
  readonly undo: string;
  /** Lua expressions for the reply, as the state is before consuming. */
  readonly before: { readonly remaining: string; readonly reset: string; readonly retry: string };
  /** Lua expressions for the reply, once this request has been consumed (after `write`). */
  readonly after: { readonly remaining: string; readonly reset: string };
}

/** `math.ceil` that does not round 2.0000000001 (float noise) up to 3. */
const ceil = (expression: string) => `math.ceil(${expression} - 1e-9)`;
const floor = (expression: string) => `math.floor(${expression} + 1e-9)`;

/** Lua's spelling of a number: integers as is, others in full precision. */
const num = (value: number) => String(value);

export function policyLua(policy: Policy): PolicyLua {
  switch (policy.algorithm) {
    case 'fixed-window':
      return fixedWindow(policy.limit, policy.window, policy.align === 'clock');
    case 'sliding-window':
      return slidingWindow(policy.limit, policy.window);
    case 'sliding-log':
      return slidingLog(policy.limit, policy.window);
    case 'token-bucket':
      return tokenBucket(policy.capacity, policy.refillRate / policy.interval);
    case 'gcra':
      return gcra(policy.period / policy.limit, policy.burst);
    case 'concurrency':
      return concurrency(policy.limit, policy.leaseTtl);
  }
}

/**
 * A counter per window. When consuming it counts first and takes the count
 * back if the request is denied (`undo`): one command fewer than reading
 * first, and nobody sees the count in between (the script is atomic).
 */
function fixedWindow(limit: number, window: number, aligned: boolean): PolicyLua {
  const L = num(limit);
  const W = num(window);
  const ttl = aligned
    ? `local ttl$ = (math.floor(now / ${W}) + 1) * ${W} - now
if consume and count$ == 0 then redis.call('PEXPIRE', KEY, ttl$) end`
    : // A missing key (or, when consuming, one just created) has no expiry: its window starts now.
      `local ttl$ = redis.call('PTTL', KEY)
if ttl$ < 0 then
  if consume then redis.call('PEXPIRE', KEY, ${W}) else count$ = 0 end
  ttl$ = ${W}
end`;
  return {
    needsClock: aligned,
    lease: false,
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

/**
 * Sliding window counter: the previous window's count, weighted by how much
 * of it still overlaps the sliding window, plus the current window's count.
 */
function slidingWindow(limit: number, window: number): PolicyLua {
  const L = num(limit);
  const W = num(window);
  return {
    needsClock: true,
    lease: false,
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
    retry$ = ${ceil(`${W} * (1 - (${L} - current$ - cost) / previous$)`)} - elapsed$
  else
    -- Wait into the next window, where this window's count is the previous one.
    retry$ = (${W} - elapsed$) + ${ceil(`${W} * (1 - (${L} - cost) / current$)`)}
  end
  if retry$ < 1 then retry$ = 1 end
end`,
    write: `redis.call('HSET', KEY, 'w', index$, 'c', current$ + cost, 'p', previous$)
redis.call('PEXPIRE', KEY, (${W} - elapsed$) + ${W})`,
    undo: '',
    before: {
      remaining: `math.max(0, ${floor(`${L} - used$`)})`,
      reset: `(current$ > 0 and (${W} - elapsed$) + ${W} or (previous$ > 0 and ${W} - elapsed$ or 0))`,
      retry: 'retry$',
    },
    after: {
      remaining: `math.max(0, math.max(0, ${floor(`${L} - used$`)}) - cost)`,
      reset: `(${W} - elapsed$) + ${W}`,
    },
  };
}

/** Sliding log: one sorted-set entry per admitted unit, scored by time. */
function slidingLog(limit: number, window: number): PolicyLua {
  const L = num(limit);
  const W = num(window);
  return {
    needsClock: true,
    lease: false,
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

/**
 * Token bucket: tokens refill continuously at `rate` per ms; stored as a
 * fraction so no refill is lost between calls.
 */
function tokenBucket(capacity: number, rate: number): PolicyLua {
  const C = num(capacity);
  const R = num(rate);
  return {
    needsClock: true,
    lease: false,
    evaluate: `local tokens$ = ${C}
do
  local state = redis.call('HMGET', KEY, 't', 'ts')
  local tokens, stamp = tonumber(state[1]), tonumber(state[2])
  if tokens ~= nil and stamp ~= nil then tokens$ = math.min(${C}, tokens + math.max(0, now - stamp) * ${R}) end
end
local allowed$ = tokens$ >= cost`,
    write: `redis.call('HSET', KEY, 't', tokens$ - cost, 'ts', now)
-- Once full again the state equals a missing key, so let it expire then.
redis.call('PEXPIRE', KEY, math.max(1, ${ceil(`(${C} - tokens$ + cost) / ${R}`)}))`,
    undo: '',
    before: {
      remaining: `math.max(0, ${floor('tokens$')})`,
      reset: `math.max(0, ${ceil(`(${C} - tokens$) / ${R}`)})`,
      retry: `(allowed$ and 0 or ${ceil(`(cost - tokens$) / ${R}`)})`,
    },
    after: {
      remaining: `math.max(0, ${floor('(tokens$ - cost)')})`,
      reset: `math.max(0, ${ceil(`(${C} - tokens$ + cost) / ${R}`)})`,
    },
  };
}

/**
 * GCRA: the theoretical arrival time (TAT) moves one emission interval per
 * unit; a request is admitted while the TAT stays within `burst` intervals of now.
 */
function gcra(interval: number, burst: number): PolicyLua {
  const I = num(interval);
  const span = num(burst * interval);
  const remainingAt = (tat: string) => `math.max(0, ${floor(`(now - (${tat} - ${span})) / ${I}`)})`;
  return {
    needsClock: true,
    lease: false,
    evaluate: `local tat$ = math.max(now, tonumber(redis.call('GET', KEY) or '0'))
local new_tat$ = tat$ + ${I} * cost
local allowed$ = new_tat$ - ${span} <= now`,
    write: `redis.call('SET', KEY, string.format('%.3f', new_tat$), 'PX', math.max(1, ${ceil('(new_tat$ - now)')}))`,
    undo: '',
    before: {
      remaining: remainingAt('tat$'),
      reset: `math.max(0, ${ceil('(tat$ - now)')})`,
      retry: `(allowed$ and 0 or ${ceil(`(new_tat$ - ${span} - now)`)})`,
    },
    after: { remaining: remainingAt('new_tat$'), reset: `math.max(0, ${ceil('(new_tat$ - now)')})` },
  };
}

/** Concurrency: leases scored by their expiry, so a crashed holder's lease stops counting after its ttl. */
function concurrency(limit: number, leaseTtl: number): PolicyLua {
  const L = num(limit);
  const T = num(leaseTtl);
  // The lease expiring last; after this request's, that is at least its ttl.
  const lastExpiry = `math.max(0, (tonumber(redis.call('ZRANGE', KEY, -1, -1, 'WITHSCORES')[2]) or now) - now)`;
  return {
    needsClock: true,
    lease: true,
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
