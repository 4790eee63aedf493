-- release-permit: gives a lease back (a semaphore permit or a read lock) and wakes waiters
-- KEYS[1] waiters flag of the resource's hash tag
-- KEYS[2] leases (sorted set: member token, score expiry in ms on the Redis clock)
-- ARGV[1] token of the holder
-- ARGV[2] wake-up channel
-- ARGV[3] wake-up message (the resource's id), published only when someone waits
-- Reply: 1 released, 0 expired (the lease had run out or was already gone)

local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
-- A lease past its expiry was already free for others to take: it was not held any more.
if tonumber(score) <= now_ms then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1
