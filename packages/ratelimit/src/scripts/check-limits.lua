-- check-limits: checks every policy of a subject and consumes from all of them or from none
-- KEYS[1] block key (string, exists while the subject is blocked)
-- KEYS[2...] one state key per policy in configuration order, then the penalty key (hash) if a penalty is configured
-- ARGV[1] mode: 1 consume, 0 peek (report only, change nothing)
-- ARGV[2] cost in units
-- ARGV[3] request id, unique per call (sliding-log entries, concurrency leases; empty when unused)
-- Reply: {allowed 0|1, blocked ms, then per policy either remaining and reset ms (when the request
--   was admitted and consumed) or allowed 0|1, remaining, reset ms and retry ms (otherwise)}
--
-- Each limiter writes its configuration into the three lines below (see
-- configuredScript in rate-limiter.ts), so a call carries only what changes per
-- request, and each distinct configuration is one cached script. Policies are
-- {code, p1, p2, p3}:
--   1 fixed window, clock aligned: limit, window ms
--   2 fixed window from first hit: limit, window ms
--   3 sliding window counter:      limit, window ms
--   4 sliding log:                 limit, window ms
--   5 token bucket:                capacity, tokens per interval, interval ms
--   6 GCRA:                        limit, period ms, burst
--   7 concurrency:                 limit, lease ttl ms
-- A penalty is {threshold, window ms, first block ms, multiplier, longest block ms, memory ms}.

local POLICIES = {}
local CONSUME_ON_DENY = false
local PENALTY = nil

local consume = ARGV[1] == '1'
local cost = tonumber(ARGV[2])
local request_id = ARGV[3]

-- Read Redis's clock only when an algorithm needs it, and once.
local now
local function clock()
  if not now then
    local time = redis.call('TIME')
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  return now
end
local function ceil(x) return math.ceil(x - 1e-9) end
local function clamp0(x) if x < 0 then return 0 end return x end

local reply = {1, 0}

-- A blocked subject is denied before any policy is looked at.
local blocked = redis.call('PTTL', KEYS[1])
if blocked > 0 then
  reply[1] = 0
  reply[2] = blocked
  return reply
end

-- Only the evaluators this limiter uses are defined.
local uses = {}
for _, policy in ipairs(POLICIES) do uses[policy[1]] = true end

-- Each evaluator returns a table: allowed, limit, retry ms, the remaining units
-- and ms to full reset both as they are now (`remaining`, `reset`) and as they
-- would be after consuming this request (`remaining_after`, `reset_after`),
-- and `write`, which consumes (or `undo`, when it consumed already). Which pair is reported depends on whether the
-- request is consumed, known only once every policy has been evaluated.
local evaluators = {}

if uses[1] or uses[2] then
-- When consuming, a fixed window counts first and takes the count back if the
-- request is denied (`undo`): one command fewer than reading first. The script
-- is atomic, so nobody sees the count in between.
local function fixed_window(key, limit, window, aligned)
  local count, reset
  if consume then
    count = redis.call('INCRBY', key, cost) - cost
  else
    count = tonumber(redis.call('GET', key) or '0')
  end
  if aligned then
    reset = (math.floor(clock() / window) + 1) * window - clock()
    if consume and count == 0 then redis.call('PEXPIRE', key, reset) end
  else
    reset = redis.call('PTTL', key)
    if reset < 0 then
      -- A new window (or, when peeking, none yet).
      count = consume and count or 0
      reset = window
      if consume then redis.call('PEXPIRE', key, window) end
    end
  end
  local allowed = count + cost <= limit
  return {
    allowed = allowed, limit = limit, retry = allowed and 0 or reset,
    remaining = clamp0(limit - count), reset = count > 0 and reset or 0,
    remaining_after = clamp0(limit - count - cost), reset_after = reset,
    undo = consume and function()
      if count == 0 then redis.call('DEL', key) else redis.call('DECRBY', key, cost) end
    end or nil,
  }
end
evaluators[1] = function(key, p1, p2) return fixed_window(key, p1, p2, true) end
evaluators[2] = function(key, p1, p2) return fixed_window(key, p1, p2, false) end
end

if uses[3] then
-- Sliding window counter: the previous window's count, weighted by how much
-- of it still overlaps the sliding window, plus the current window's count.
evaluators[3] = function(key, limit, window)
  local index = math.floor(clock() / window)
  local state = redis.call('HMGET', key, 'w', 'c', 'p')
  local w, current, previous = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0
  if w == nil then
    current, previous = 0, 0
  elseif w == index - 1 then
    previous, current = current, 0
  elseif w ~= index then
    current, previous = 0, 0
  end
  local elapsed = clock() - index * window
  local used = previous * (window - elapsed) / window + current
  local allowed = used + cost <= limit
  local retry = 0
  if not allowed then
    if current + cost <= limit then
      -- Wait in this window until enough of the previous one has slid out.
      retry = ceil(window * (1 - (limit - current - cost) / previous)) - elapsed
    else
      -- Wait into the next window, where this window's count is the previous one.
      retry = (window - elapsed) + ceil(window * (1 - (limit - cost) / current))
    end
    if retry < 1 then retry = 1 end
  end
  local reset = 0
  if current > 0 then reset = (window - elapsed) + window
  elseif previous > 0 then reset = window - elapsed end
  local remaining = clamp0(math.floor(limit - used + 1e-9))
  return {
    allowed = allowed, limit = limit, retry = retry,
    remaining = remaining, reset = reset,
    remaining_after = clamp0(remaining - cost), reset_after = (window - elapsed) + window,
    write = function()
      redis.call('HSET', key, 'w', index, 'c', current + cost, 'p', previous)
      redis.call('PEXPIRE', key, (window - elapsed) + window)
    end,
  }
end
end

if uses[4] then
-- Sliding log: one sorted-set entry per admitted unit, scored by time.
evaluators[4] = function(key, limit, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', clock() - window)
  local count = redis.call('ZCARD', key)
  local allowed = count + cost <= limit
  local retry = 0
  if not allowed then
    -- The entry whose expiry frees enough room for this request.
    local oldest = redis.call('ZRANGE', key, count + cost - limit - 1, count + cost - limit - 1, 'WITHSCORES')
    retry = tonumber(oldest[2]) + window - clock()
  end
  local reset = 0
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] then reset = tonumber(newest[2]) + window - clock() end
  return {
    allowed = allowed, limit = limit, retry = retry,
    remaining = clamp0(limit - count), reset = reset,
    remaining_after = clamp0(limit - count - cost), reset_after = window,
    write = function()
      for unit = 1, cost do
        redis.call('ZADD', key, clock(), request_id .. ':' .. unit)
      end
      redis.call('PEXPIRE', key, window)
    end,
  }
end
end

if uses[5] then
-- Token bucket: tokens refill continuously at tokens/interval; stored as a
-- fraction so no refill is lost between calls.
evaluators[5] = function(key, capacity, per_interval, interval)
  local rate = per_interval / interval
  local state = redis.call('HMGET', key, 't', 'ts')
  local tokens, stamp = tonumber(state[1]), tonumber(state[2])
  if tokens == nil or stamp == nil then
    tokens = capacity
  else
    tokens = math.min(capacity, tokens + math.max(0, clock() - stamp) * rate)
  end
  local allowed = tokens >= cost
  local after = tokens - cost
  return {
    allowed = allowed, limit = capacity, retry = allowed and 0 or ceil((cost - tokens) / rate),
    remaining = clamp0(math.floor(tokens + 1e-9)), reset = clamp0(ceil((capacity - tokens) / rate)),
    remaining_after = clamp0(math.floor(after + 1e-9)), reset_after = clamp0(ceil((capacity - after) / rate)),
    write = function()
      redis.call('HSET', key, 't', after, 'ts', clock())
      -- Once full again the state equals a missing key, so let it expire then.
      redis.call('PEXPIRE', key, math.max(1, ceil((capacity - after) / rate)))
    end,
  }
end
end

if uses[6] then
-- GCRA: the theoretical arrival time (TAT) moves one emission interval per
-- unit; a request is admitted while the TAT stays within burst intervals of clock().
evaluators[6] = function(key, limit, period, burst)
  local interval = period / limit
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < clock() then tat = clock() end
  local new_tat = tat + interval * cost
  local allow_at = new_tat - burst * interval
  local allowed = allow_at <= clock()
  local function remaining_at(t) return clamp0(math.floor((clock() - (t - burst * interval)) / interval + 1e-9)) end
  return {
    allowed = allowed, limit = burst, retry = allowed and 0 or ceil(allow_at - clock()),
    remaining = remaining_at(tat), reset = clamp0(ceil(tat - clock())),
    remaining_after = remaining_at(new_tat), reset_after = clamp0(ceil(new_tat - clock())),
    write = function()
      redis.call('SET', key, string.format('%.3f', new_tat), 'PX', math.max(1, ceil(new_tat - clock())))
    end,
  }
end
end

if uses[7] then
-- Concurrency: leases scored by their expiry, so a crashed holder's lease
-- stops counting after its ttl.
evaluators[7] = function(key, limit, ttl)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', clock())
  local count = redis.call('ZCARD', key)
  local allowed = count + cost <= limit
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local retry = 0
  if not allowed then retry = first[2] and clamp0(tonumber(first[2]) - clock()) or 1 end
  local reset = last[2] and clamp0(tonumber(last[2]) - clock()) or 0
  return {
    allowed = allowed, limit = limit, retry = retry, lease = true,
    remaining = clamp0(limit - count), reset = reset,
    remaining_after = clamp0(limit - count - cost), reset_after = math.max(reset, ttl),
    write = function()
      for unit = 1, cost do
        redis.call('ZADD', key, clock() + ttl, request_id .. ':' .. unit)
      end
      if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
    end,
  }
end
end

local all_allowed = true
local evaluated = {}
for index, policy in ipairs(POLICIES) do
  local result = evaluators[policy[1]](KEYS[index + 1], policy[2], policy[3], policy[4])
  if not result.allowed then all_allowed = false end
  evaluated[index] = result
end

-- Consume from every policy or from none. Denied requests are counted only
-- with CONSUME_ON_DENY, and never take concurrency leases.
local compact = consume and all_allowed
for _, result in ipairs(evaluated) do
  local written = consume and (all_allowed or (CONSUME_ON_DENY and not result.lease))
  if result.undo then
    if not written then result.undo() end
  elseif written then
    result.write()
  end
  local remaining = written and result.remaining_after or result.remaining
  local reset = written and result.reset_after or result.reset
  if compact then
    reply[#reply + 1] = remaining
    reply[#reply + 1] = reset
  else
    reply[#reply + 1] = result.allowed and 1 or 0
    reply[#reply + 1] = remaining
    reply[#reply + 1] = reset
    reply[#reply + 1] = result.retry
  end
end
reply[1] = all_allowed and 1 or 0

if consume and not all_allowed and PENALTY then
  local key = KEYS[#POLICIES + 2]
  local state = redis.call('HMGET', key, 's', 'se', 'l', 'le')
  local strikes, strikes_end = tonumber(state[1]) or 0, tonumber(state[2]) or 0
  local level, level_end = tonumber(state[3]) or 0, tonumber(state[4]) or 0
  if clock() >= strikes_end then strikes = 0; strikes_end = clock() + PENALTY[2] end
  if clock() >= level_end then level = 0 end
  strikes = strikes + 1
  if strikes >= PENALTY[1] then
    local block = math.max(1, math.floor(math.min(PENALTY[5], PENALTY[3] * PENALTY[4] ^ level)))
    redis.call('SET', KEYS[1], 1, 'PX', block)
    reply[2] = block
    level = level + 1
    strikes = 0
  end
  level_end = clock() + PENALTY[6]
  redis.call('HSET', key, 's', strikes, 'se', strikes_end, 'l', level, 'le', level_end)
  redis.call('PEXPIRE', key, math.max(strikes_end, level_end) - clock())
end
return reply
