-- describe-sessions: what list() shows of each session of one slot
-- KEYS[1...] session hashes (all in one slot)
-- Reply: for each session, false when missing or past its deadline, else {user, created, deadline, pttl, version}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local result = {}
for i = 1, #KEYS do
  local stored = redis.call('HMGET', KEYS[i], '_u', '_c', '_a', '_v')
  if stored[3] and now < tonumber(stored[3]) then
    result[i] = {stored[1], tonumber(stored[2]), tonumber(stored[3]), redis.call('PTTL', KEYS[i]), tonumber(stored[4])}
  else
    result[i] = false
  end
end
return result
