-- acquire-permit: takes one of a semaphore's permits for a token and issues a fencing token
-- KEYS[1] fencing counter of the resource's hash tag (string, never expires)
-- KEYS[2] waiters flag of the hash tag
-- KEYS[3] permits (sorted set: member token, score lease expiry in ms on the Redis clock)
-- ARGV[1] token of this acquire call (the same on every attempt of the call)
-- ARGV[2] lease ttl in ms
-- ARGV[3] most permits held at once
-- ARGV[4] ms to keep the waiters flag when busy (0: the caller will not wait)
-- Reply: the fencing token (an integer above 0) when acquired; -1 - ms until the earliest lease
--   expires when every permit is taken

local token = ARGV[1]
local ttl = tonumber(ARGV[2])
local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Leases of holders that died are reclaimed here, by their expiry on the Redis clock.
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now_ms)
if not redis.call('ZSCORE', KEYS[3], token) and redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then
  local flag_ms = tonumber(ARGV[4])
  if flag_ms > 0 then redis.call('SET', KEYS[2], '1', 'PX', flag_ms) end
  local earliest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  return -1 - math.max(0, tonumber(earliest[2]) - now_ms)
end
redis.call('ZADD', KEYS[3], now_ms + ttl, token)
if redis.call('PTTL', KEYS[3]) < ttl then redis.call('PEXPIRE', KEYS[3], ttl) end

-- @include fencing-token.lua
return next_fencing_token(time)
