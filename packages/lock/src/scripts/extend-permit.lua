-- extend-permit: resets a lease's expiry (a semaphore permit or a read lock), only while it is still held
-- KEYS[1] leases (sorted set: member token, score expiry in ms on the Redis clock)
-- ARGV[1] token of the holder
-- ARGV[2] new ttl in ms
-- Reply: 1 extended, 0 expired (the lease had run out, and its slot may have been taken)

local ttl = tonumber(ARGV[2])
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
-- Expired leases go first, so an expired one can never come back above the limit.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now_ms + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
