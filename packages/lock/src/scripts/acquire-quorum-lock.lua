-- acquire-quorum-lock: on one instance of a Redlock quorum, takes the locks of one or more resources for a token, all or none
-- KEYS[1...] one lock key per resource (string holding the holder's token, expiring after the ttl)
-- ARGV[1] token of this acquire call (random, the same on every attempt of the call)
-- ARGV[2] ttl in ms
-- Reply: {1, 0} when acquired; {0, ms until the lock that blocked expires (-1 when unknown)} when busy
--
-- A lock that already holds this call's token counts as free, and its ttl is
-- reset: an earlier attempt of the same call took it (its reply was lost, or
-- it arrived after the attempt was given up), so a retry never blocks on
-- itself. No fencing token: counters on independent servers would not be
-- monotonic across the quorum.

local token = ARGV[1]
local ttl = ARGV[2]

if #KEYS == 1 then
  if redis.call('SET', KEYS[1], token, 'NX', 'PX', ttl) then return {1, 0} end
  if redis.call('GET', KEYS[1]) ~= token then return {0, redis.call('PTTL', KEYS[1])} end
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {1, 0}
end

for index = 1, #KEYS do
  local holder = redis.call('GET', KEYS[index])
  if holder and holder ~= token then return {0, redis.call('PTTL', KEYS[index])} end
end
for index = 1, #KEYS do redis.call('SET', KEYS[index], token, 'PX', ttl) end
return {1, 0}
