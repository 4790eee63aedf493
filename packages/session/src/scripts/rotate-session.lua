-- rotate-session: moves a session to a new id in the same slot and destroys the old id
-- KEYS[1] old session hash
-- KEYS[2] old id's tombstone
-- KEYS[3] new session hash (same hash tag as the old one)
-- ARGV[1] 1 when the user's index already lists the new id
-- ARGV[2] idle ttl in ms
-- ARGV[3] tombstone ttl in ms
-- Reply: {status, version, created, deadline, pttl, user}; status 1 = rotated, 0 = missing,
--   4 = index the new id first (deadline and user given), 5 = new id exists
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stored = redis.call('HMGET', KEYS[1], '_u', '_c', '_a', '_v')
if not stored[3] then return {0, 0, 0, 0, 0, ''} end
local deadline = tonumber(stored[3])
if now >= deadline then
  redis.call('DEL', KEYS[1])
  return {0, 0, 0, 0, 0, ''}
end
if redis.call('EXISTS', KEYS[3]) == 1 then return {5, 0, 0, 0, 0, ''} end
if stored[1] ~= '' and ARGV[1] ~= '1' then
  return {4, 0, tonumber(stored[2]), deadline, 0, stored[1]}
end
redis.call('COPY', KEYS[1], KEYS[3])
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
local version = redis.call('HINCRBY', KEYS[3], '_v', 1)
local pttl = math.min(tonumber(ARGV[2]), deadline - now)
redis.call('PEXPIRE', KEYS[3], pttl)
return {1, version, tonumber(stored[2]), deadline, pttl, stored[1]}
