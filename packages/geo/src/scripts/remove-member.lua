-- remove-member: removes a member, its metadata and its last-seen time
-- KEYS[1] geo set
-- KEYS[2] metadata hash
-- KEYS[3] last-seen sorted set
-- ARGV[1] member
-- ARGV[2] ttl in ms (0: members never go stale)
-- Reply: 1 when a live (not stale) member was removed, else 0
local member, ttl = ARGV[1], tonumber(ARGV[2])
local live = redis.call('ZSCORE', KEYS[1], member) ~= false
if live and ttl > 0 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  local seen = redis.call('ZSCORE', KEYS[3], member)
  live = seen ~= false and tonumber(seen) >= now - ttl
end
redis.call('ZREM', KEYS[1], member)
redis.call('HDEL', KEYS[2], member)
redis.call('ZREM', KEYS[3], member)
if live then return 1 end
return 0
