-- acquire-write-lock: takes the write lock (no other writer, no reader) and issues a fencing token
-- KEYS[1] fencing counter of the resource's hash tag (string, never expires)
-- KEYS[2] waiters flag of the hash tag
-- KEYS[3] writer lock (string holding the writer's token)
-- KEYS[4] writer intent (string: the token of a writer waiting for the readers to leave)
-- KEYS[5] readers (sorted set: member token, score lease expiry in ms on the Redis clock)
-- ARGV[1] token of this acquire call (the same on every attempt of the call)
-- ARGV[2] lock ttl in ms
-- ARGV[3] ms to keep the waiters flag and the writer intent when busy (0: the caller will not wait)
-- Reply: the fencing token (an integer above 0) when acquired; when busy, -1 - ms until the
--   blocking writer's lock or the last reader's lease expires (0 when unknown)

local token = ARGV[1]
local ttl = ARGV[2]
local flag_ms = tonumber(ARGV[3])

local writer = redis.call('GET', KEYS[3])
if writer and writer ~= token then
  if flag_ms > 0 then redis.call('SET', KEYS[2], '1', 'PX', flag_ms) end
  local ms = redis.call('PTTL', KEYS[3])
  if ms < 0 then return 0 end
  return -1 - ms
end

local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now_ms)
if redis.call('ZCARD', KEYS[5]) > 0 then
  if flag_ms > 0 then
    -- Announce the waiting writer: new readers hold back until it got its turn or gave up.
    redis.call('SET', KEYS[2], '1', 'PX', flag_ms)
    redis.call('SET', KEYS[4], token, 'PX', flag_ms)
  end
  local last = redis.call('ZRANGE', KEYS[5], -1, -1, 'WITHSCORES')
  return -1 - math.max(0, tonumber(last[2]) - now_ms)
end

redis.call('SET', KEYS[3], token, 'PX', ttl)
if redis.call('GET', KEYS[4]) == token then redis.call('DEL', KEYS[4]) end

-- @include fencing-token.lua
return next_fencing_token(time)
