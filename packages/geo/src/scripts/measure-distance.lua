-- measure-distance: the distance between two live members
-- KEYS[1] geo set
-- KEYS[2] last-seen sorted set
-- ARGV[1] first member
-- ARGV[2] second member
-- ARGV[3] unit (m, km, mi, ft)
-- ARGV[4] ttl in ms (0: members never go stale)
-- Reply: the distance as a string, or false when either member is absent or stale
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  local time = redis.call('TIME')
  local cutoff = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - ttl
  for i = 1, 2 do
    local seen = redis.call('ZSCORE', KEYS[2], ARGV[i])
    if not seen or tonumber(seen) < cutoff then return false end
  end
end
return redis.call('GEODIST', KEYS[1], ARGV[1], ARGV[2], ARGV[3])
