-- prune-index: removes given ids and dead entries from a user's index, then lists it
-- KEYS[1] user index: sorted set of session ids scored by absolute deadline (ms)
-- ARGV[1] grace in ms: entries whose deadline passed longer ago are pruned
-- ARGV[2...] session ids to remove (found gone, or destroyed)
-- Reply: the ids still listed, oldest deadline first
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for i = 2, #ARGV, 1000 do
  redis.call('ZREM', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - tonumber(ARGV[1])))
return redis.call('ZRANGE', KEYS[1], 0, -1)
