-- touch-session: renews a live session's idle expiry, never past its absolute deadline
-- KEYS[1] session hash: _a absolute deadline (ms)
-- ARGV[1] idle ttl in ms
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
local pttl = math.min(tonumber(ARGV[1]), deadline - now)
redis.call('PEXPIRE', KEYS[1], pttl)
return pttl
