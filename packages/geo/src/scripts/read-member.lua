-- read-member: a live member's position, metadata and last-seen time
-- KEYS[1] geo set
-- KEYS[2] metadata hash
-- KEYS[3] last-seen sorted set
-- ARGV[1] member
-- ARGV[2] ttl in ms (0: members never go stale)
-- ARGV[3] 1 to read metadata, 0 not to
-- Reply: {longitude, latitude, metadata JSON or false, last seen ms or false}, or false when absent or stale
local member, ttl = ARGV[1], tonumber(ARGV[2])
local position = redis.call('GEOPOS', KEYS[1], member)[1]
if not position then return false end
local seen = false
if ttl > 0 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  seen = redis.call('ZSCORE', KEYS[3], member)
  if not seen or tonumber(seen) < now - ttl then return false end
end
local metadata = false
if ARGV[3] == '1' then metadata = redis.call('HGET', KEYS[2], member) end
return {position[1], position[2], metadata, seen}
