-- touch-session: renews a live session's expiry, never past its absolute deadline, and
-- optionally stores some fields with it (a framework's cookie: not a data change, no new version)
-- KEYS[1] session hash: _a absolute deadline (ms)
-- ARGV[1] time to live in ms
-- ARGV[2...] pairs of field, value to set (only when the session is live)
-- Reply: the new time to live in ms, or -1 when the session is missing or past its deadline
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local deadline = redis.call('HGET', KEYS[1], '_a')
if not deadline then return -1 end
deadline = tonumber(deadline)
if now >= deadline then
  redis.call('DEL', KEYS[1])
  return -1
end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
local pttl = math.min(tonumber(ARGV[1]), deadline - now)
redis.call('PEXPIRE', KEYS[1], pttl)
return pttl
