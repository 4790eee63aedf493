-- refund-limits: gives units back to every policy of a subject (a request that turned out not to count)
-- KEYS[1...] one state key per policy, in the order of the policy arguments
-- ARGV[1] units to give back
-- ARGV[2...] four values per policy: algorithm code and its three parameters (policy-encoding.ts)
-- Reply: the number of policies whose state changed

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local units = tonumber(ARGV[1])
local changed = 0

for index = 1, #KEYS do
  local key = KEYS[index]
  local base = 2 + (index - 1) * 4
  local code = tonumber(ARGV[base])
  local p1, p2, p3 = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  if code == 1 or code == 2 then
    local count = tonumber(redis.call('GET', key) or '0')
    if count > 0 then
      redis.call('SET', key, math.max(0, count - units), 'KEEPTTL')
      changed = changed + 1
    end
  elseif code == 3 then
    local current = tonumber(redis.call('HGET', key, 'c') or '0')
    if current > 0 then
      redis.call('HSET', key, 'c', math.max(0, current - units))
      changed = changed + 1
    end
  elseif code == 4 then
    if #redis.call('ZPOPMAX', key, units) > 0 then changed = changed + 1 end
  elseif code == 5 then
    local state = redis.call('HMGET', key, 't', 'ts')
    local tokens, stamp = tonumber(state[1]), tonumber(state[2])
    if tokens ~= nil and stamp ~= nil then
      local rate = p2 / p3
      tokens = math.min(p1, tokens + math.max(0, now - stamp) * rate + units)
      redis.call('HSET', key, 't', tokens, 'ts', now)
      redis.call('PEXPIRE', key, math.max(1, math.ceil((p1 - tokens) / rate)))
      changed = changed + 1
    end
  elseif code == 6 then
    local tat = tonumber(redis.call('GET', key) or '0')
    if tat > now then
      tat = math.max(now, tat - (p2 / p1) * units)
      if tat > now then
        redis.call('SET', key, string.format('%.3f', tat), 'PX', math.max(1, math.ceil(tat - now)))
      else
        redis.call('DEL', key)
      end
      changed = changed + 1
    end
  end
end
return changed
