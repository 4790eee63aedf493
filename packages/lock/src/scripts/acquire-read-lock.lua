-- acquire-read-lock: takes a read lock (shared with other readers) and issues a fencing token
-- KEYS[1] fencing counter of the resource's hash tag (string, never expires)
-- KEYS[2] waiters flag of the hash tag
-- KEYS[3] writer lock (string holding the writer's token)
-- KEYS[4] writer intent (string: a writer waits for the readers to leave)
-- KEYS[5] readers (sorted set: member token, score lease expiry in ms on the Redis clock)
-- ARGV[1] token of this acquire call (the same on every attempt of the call)
-- ARGV[2] lease ttl in ms
-- ARGV[3] ms to keep the waiters flag when busy (0: the caller will not wait)
-- Reply: the fencing token (an integer above 0) when acquired; when a writer holds or waits,
--   -1 - ms until the writer's lock expires, or 0 when unknown

local token = ARGV[1]
local ttl = tonumber(ARGV[2])

-- New readers wait while a writer holds the lock or waits for one, so a
-- steady stream of readers cannot starve writers. A retry of a call whose
-- earlier attempt got in (its reply was lost) keeps its place.
if not redis.call('ZSCORE', KEYS[5], token) then
  local blocker = nil
  if redis.call('EXISTS', KEYS[3]) == 1 then
    blocker = KEYS[3]
  elseif redis.call('EXISTS', KEYS[4]) == 1 then
    blocker = KEYS[4]
  end
  if blocker then
    local flag_ms = tonumber(ARGV[3])
    if flag_ms > 0 then redis.call('SET', KEYS[2], '1', 'PX', flag_ms) end
    local ms = blocker == KEYS[3] and redis.call('PTTL', KEYS[3]) or -1
    if ms < 0 then return 0 end
    return -1 - ms
  end
end

local time = redis.call('TIME')
local now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now_ms)
redis.call('ZADD', KEYS[5], now_ms + ttl, token)
if redis.call('PTTL', KEYS[5]) < ttl then redis.call('PEXPIRE', KEYS[5], ttl) end

-- @include fencing-token.lua
return next_fencing_token(time)
