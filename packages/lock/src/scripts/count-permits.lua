-- count-permits: counts the leases held now (semaphore permits or read locks)
-- KEYS[1] leases (sorted set: member token, score expiry in ms on the Redis clock)
-- Reply: the number of leases that have not expired

local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms, '+inf')
