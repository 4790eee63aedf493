-- acquire-lock: takes the locks of one or more resources for a token, all or none, and issues a fencing token
-- KEYS[1] fencing counter of the resources' hash tag (string, never expires)
-- KEYS[2] waiters flag of the hash tag (string, exists while a caller waits for one of its resources)
-- KEYS[3...] one lock key per resource (string holding the holder's token, expiring after the ttl)
-- ARGV[1] token of this acquire call (random, the same on every attempt of the call)
-- ARGV[2] ttl in ms
-- ARGV[3] ms to keep the waiters flag when busy (0: the caller will not wait, so nobody needs a wake-up)
-- Reply: the fencing token (an integer above 0) when acquired; when busy, 0 if the caller does not
--   wait (ARGV[3] = 0) or the blocker's lease has no end, else -1 - ms until that lease ends
--
-- A lock that already holds this call's token counts as free: an earlier
-- attempt of the same call succeeded but its reply was lost (a timeout), so a
-- retry is idempotent and never blocks on itself.

local token = ARGV[1]
local ttl = ARGV[2]

-- Busy: a caller that waits keeps the waiters flag set (a release then
-- publishes a wake-up) and learns when the blocker's lease ends.
local function busy(key)
  if ARGV[3] == '0' then return 0 end
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  local ms = redis.call('PTTL', key)
  if ms < 0 then return 0 end
  return -1 - ms
end

if #KEYS == 3 then
  -- One command takes a free lock or reads its holder.
  local holder = redis.call('SET', KEYS[3], token, 'NX', 'PX', ttl, 'GET')
  if holder then
    if holder ~= token then return busy(KEYS[3]) end
    redis.call('PEXPIRE', KEYS[3], ttl)
  end
else
  -- One read for every lock, however many.
  local holders = redis.call('MGET', unpack(KEYS, 3))
  for index = 3, #KEYS do
    local holder = holders[index - 2]
    if holder and holder ~= token then return busy(KEYS[index]) end
  end
  for index = 3, #KEYS do redis.call('SET', KEYS[index], token, 'PX', ttl) end
end

-- @include fencing-token.lua
return next_fencing_token(redis.call('TIME'))
