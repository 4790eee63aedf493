-- check-limits: checks every policy of a subject and consumes from all of them or from none
-- KEYS[1] block key (string, exists while the subject is blocked)
-- KEYS[2] penalty key (hash: strikes and escalation level)
-- KEYS[3...] one state key per policy, in the order of the policy arguments
-- ARGV[1] mode: 1 consume, 0 peek (report only, change nothing)
-- ARGV[2] cost in units
-- ARGV[3] consume on deny: 1 counts denied requests too, 0 does not
-- ARGV[4] request id, unique per call (sliding-log entries, concurrency leases)
-- ARGV[5] penalty threshold (0 = no penalty)
-- ARGV[6] penalty window ms
-- ARGV[7] penalty first block ms
-- ARGV[8] penalty multiplier
-- ARGV[9] penalty longest block ms
-- ARGV[10] penalty memory ms
-- ARGV[11...] five values per policy: algorithm code, then parameters p1 p2 p3 p4
--   1 fixed window, clock aligned: limit, window ms
--   2 fixed window from first hit: limit, window ms
--   3 sliding window counter:      limit, window ms
--   4 sliding log:                 limit, window ms
--   5 token bucket:                capacity, tokens per interval, interval ms
--   6 GCRA:                        limit, period ms, burst
--   7 concurrency:                 limit, lease ttl ms
-- Reply: {allowed 0|1, blocked ms, then per policy: allowed 0|1, limit, remaining, reset ms, retry ms}

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local consume = ARGV[1] == '1'
local cost = tonumber(ARGV[2])
local consume_on_deny = ARGV[3] == '1'
local request_id = ARGV[4]

local reply = {1, 0}

-- A blocked subject is denied before any policy is looked at.
local blocked = redis.call('PTTL', KEYS[1])
if blocked > 0 then
  reply[1] = 0
  reply[2] = blocked
  return reply
end

local function ceil(x) return math.ceil(x - 1e-9) end
local function clamp0(x) if x < 0 then return 0 end return x end

-- Each evaluator returns a table: allowed, limit, retry ms, the remaining units
-- and ms to full reset both as they are now (`remaining`, `reset`) and as they
-- would be after consuming this request (`remaining_after`, `reset_after`),
-- and `write`, which consumes. Which pair is reported depends on whether the
-- request is consumed, known only once every policy has been evaluated.
local evaluators = {}

local function fixed_window(key, limit, window, aligned)
  local count = tonumber(redis.call('GET', key) or '0')
  local reset
  if aligned then
    reset = (math.floor(now / window) + 1) * window - now
  else
    reset = redis.call('PTTL', key)
    if reset <= 0 then count = 0; reset = window end
  end
  local allowed = count + cost <= limit
  return {
    allowed = allowed, limit = limit, retry = allowed and 0 or reset,
    remaining = clamp0(limit - count), reset = count > 0 and reset or 0,
    remaining_after = clamp0(limit - count - cost), reset_after = reset,
    write = function()
      if count == 0 then
        redis.call('SET', key, cost, 'PX', reset)
      else
        redis.call('INCRBY', key, cost)
      end
    end,
  }
end
evaluators[1] = function(key, p1, p2) return fixed_window(key, p1, p2, true) end
evaluators[2] = function(key, p1, p2) return fixed_window(key, p1, p2, false) end

-- Sliding window counter: the previous window's count, weighted by how much
-- of it still overlaps the sliding window, plus the current window's count.
evaluators[3] = function(key, limit, window)
  local index = math.floor(now / window)
  local state = redis.call('HMGET', key, 'w', 'c', 'p')
  local w, current, previous = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0
  if w == nil then
    current, previous = 0, 0
  elseif w == index - 1 then
    previous, current = current, 0
  elseif w ~= index then
    current, previous = 0, 0
  end
  local elapsed = now - index * window
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

-- Sliding log: one sorted-set entry per admitted unit, scored by time.
evaluators[4] = function(key, limit, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  local allowed = count + cost <= limit
  local retry = 0
  if not allowed then
    -- The entry whose expiry frees enough room for this request.
    local oldest = redis.call('ZRANGE', key, count + cost - limit - 1, count + cost - limit - 1, 'WITHSCORES')
    retry = tonumber(oldest[2]) + window - now
  end
  local reset = 0
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] then reset = tonumber(newest[2]) + window - now end
  return {
    allowed = allowed, limit = limit, retry = retry,
    remaining = clamp0(limit - count), reset = reset,
    remaining_after = clamp0(limit - count - cost), reset_after = window,
    write = function()
      for unit = 1, cost do
        redis.call('ZADD', key, now, request_id .. ':' .. unit)
      end
      redis.call('PEXPIRE', key, window)
    end,
  }
end

-- Token bucket: tokens refill continuously at tokens/interval; stored as a
-- fraction so no refill is lost between calls.
evaluators[5] = function(key, capacity, per_interval, interval)
  local rate = per_interval / interval
  local state = redis.call('HMGET', key, 't', 'ts')
  local tokens, stamp = tonumber(state[1]), tonumber(state[2])
  if tokens == nil or stamp == nil then
    tokens = capacity
  else
    tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
  end
  local allowed = tokens >= cost
  local after = tokens - cost
  return {
    allowed = allowed, limit = capacity, retry = allowed and 0 or ceil((cost - tokens) / rate),
    remaining = clamp0(math.floor(tokens + 1e-9)), reset = clamp0(ceil((capacity - tokens) / rate)),
    remaining_after = clamp0(math.floor(after + 1e-9)), reset_after = clamp0(ceil((capacity - after) / rate)),
    write = function()
      redis.call('HSET', key, 't', after, 'ts', now)
      -- Once full again the state equals a missing key, so let it expire then.
      redis.call('PEXPIRE', key, math.max(1, ceil((capacity - after) / rate)))
    end,
  }
end

-- GCRA: the theoretical arrival time (TAT) moves one emission interval per
-- unit; a request is admitted while the TAT stays within burst intervals of now.
evaluators[6] = function(key, limit, period, burst)
  local interval = period / limit
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local new_tat = tat + interval * cost
  local allow_at = new_tat - burst * interval
  local allowed = allow_at <= now
  local function remaining_at(t) return clamp0(math.floor((now - (t - burst * interval)) / interval + 1e-9)) end
  return {
    allowed = allowed, limit = burst, retry = allowed and 0 or ceil(allow_at - now),
    remaining = remaining_at(tat), reset = clamp0(ceil(tat - now)),
    remaining_after = remaining_at(new_tat), reset_after = clamp0(ceil(new_tat - now)),
    write = function()
      redis.call('SET', key, string.format('%.3f', new_tat), 'PX', math.max(1, ceil(new_tat - now)))
    end,
  }
end

-- Concurrency: leases scored by their expiry, so a crashed holder's lease
-- stops counting after its ttl.
evaluators[7] = function(key, limit, ttl)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local count = redis.call('ZCARD', key)
  local allowed = count + cost <= limit
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  local retry = 0
  if not allowed then retry = first[2] and clamp0(tonumber(first[2]) - now) or 1 end
  local reset = last[2] and clamp0(tonumber(last[2]) - now) or 0
  return {
    allowed = allowed, limit = limit, retry = retry, lease = true,
    remaining = clamp0(limit - count), reset = reset,
    remaining_after = clamp0(limit - count - cost), reset_after = math.max(reset, ttl),
    write = function()
      for unit = 1, cost do
        redis.call('ZADD', key, now + ttl, request_id .. ':' .. unit)
      end
      if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
    end,
  }
end

local all_allowed = true
local evaluated = {}
for index = 3, #KEYS do
  local base = 11 + (index - 3) * 5
  local code = tonumber(ARGV[base])
  local p1, p2, p3 = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  local policy = evaluators[code](KEYS[index], p1, p2, p3)
  if not policy.allowed then all_allowed = false end
  evaluated[#evaluated + 1] = policy
end

-- Consume from every policy or from none. Denied requests are counted only
-- with consume_on_deny, and never take concurrency leases.
for _, policy in ipairs(evaluated) do
  local written = consume and (all_allowed or (consume_on_deny and not policy.lease))
  if written then policy.write() end
  local offset = #reply
  reply[offset + 1] = policy.allowed and 1 or 0
  reply[offset + 2] = policy.limit
  reply[offset + 3] = written and policy.remaining_after or policy.remaining
  reply[offset + 4] = written and policy.reset_after or policy.reset
  reply[offset + 5] = policy.retry
end
reply[1] = all_allowed and 1 or 0

if consume and not all_allowed then
  local threshold = tonumber(ARGV[5])
  if threshold > 0 then
    local state = redis.call('HMGET', KEYS[2], 's', 'se', 'l', 'le')
    local strikes, strikes_end = tonumber(state[1]) or 0, tonumber(state[2]) or 0
    local level, level_end = tonumber(state[3]) or 0, tonumber(state[4]) or 0
    if now >= strikes_end then strikes = 0; strikes_end = now + tonumber(ARGV[6]) end
    if now >= level_end then level = 0 end
    strikes = strikes + 1
    if strikes >= threshold then
      local block = math.min(tonumber(ARGV[9]), tonumber(ARGV[7]) * tonumber(ARGV[8]) ^ level)
      block = math.max(1, math.floor(block))
      redis.call('SET', KEYS[1], 1, 'PX', block)
      reply[2] = block
      level = level + 1
      strikes = 0
    end
    level_end = now + tonumber(ARGV[10])
    redis.call('HSET', KEYS[2], 's', strikes, 'se', strikes_end, 'l', level, 'le', level_end)
    redis.call('PEXPIRE', KEYS[2], math.max(strikes_end, level_end) - now)
  end
end
return reply
