-- hit-sliding-window: admit one hit if a sliding window counter allows it (the minimal baseline)
-- KEYS[1] hash: w = index of the current window, c = its count, p = the previous window's count
-- ARGV[1] limit
-- ARGV[2] window length in ms
-- Reply: 1 admitted (and counted), 0 denied
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local index = math.floor(now / window)
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local w, current, previous = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0
if w ~= index then
  -- The stored window is over: it is the previous one only if it ended just now.
  if w == index - 1 then previous = current else previous = 0 end
  current = 0
end
-- Same arithmetic as redkit: the previous window weighted by how much of it still overlaps.
local elapsed = now - index * window
if previous * (window - elapsed) / window + current + 1 > limit then return 0 end
if w == index then
  redis.call('HINCRBY', KEYS[1], 'c', 1)
else
  -- A new window: the key must live through the next one, where this count is the previous.
  redis.call('HSET', KEYS[1], 'w', index, 'c', 1, 'p', previous)
  redis.call('PEXPIRE', KEYS[1], 2 * window - elapsed)
end
return 1
