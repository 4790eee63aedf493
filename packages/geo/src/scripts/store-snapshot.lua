-- store-snapshot: stores a radius search (live members, by distance) into a short-lived key for paging
-- KEYS[1] geo set
-- KEYS[2] last-seen sorted set
-- KEYS[3] snapshot sorted set (member -> distance)
-- ARGV[1] origin: 'p' a point (ARGV[2] longitude, ARGV[3] latitude) or 'm' a member (ARGV[2])
-- ARGV[4] radius
-- ARGV[5] unit
-- ARGV[6] ASC or DESC
-- ARGV[7] ttl of members in ms (0: members never go stale)
-- ARGV[8] how long the snapshot lives, in ms
-- Reply: {0, number of members}, or {1} when the origin member is absent or stale
local ttl = tonumber(ARGV[7])
local cutoff = 0
if ttl > 0 then
  local time = redis.call('TIME')
  cutoff = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - ttl
end
local search = {'GEOSEARCHSTORE', KEYS[3], KEYS[1]}
if ARGV[1] == 'm' then
  if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return {1} end
  if ttl > 0 then
    local seen = redis.call('ZSCORE', KEYS[2], ARGV[2])
    if not seen or tonumber(seen) < cutoff then return {1} end
  end
  search[4], search[5] = 'FROMMEMBER', ARGV[2]
else
  search[4], search[5], search[6] = 'FROMLONLAT', ARGV[2], ARGV[3]
end
search[#search + 1] = 'BYRADIUS'
search[#search + 1] = ARGV[4]
search[#search + 1] = ARGV[5]
search[#search + 1] = 'STOREDIST'
local count = redis.call(unpack(search))
if ttl > 0 and count > 0 then
  local members = redis.call('ZRANGE', KEYS[3], 0, -1)
  local stale = {}
  for _, member in ipairs(members) do
    local seen = redis.call('ZSCORE', KEYS[2], member)
    if not seen or tonumber(seen) < cutoff then
      stale[#stale + 1] = member
      if #stale == 1000 then
        redis.call('ZREM', KEYS[3], unpack(stale))
        stale = {}
      end
    end
  end
  if #stale > 0 then redis.call('ZREM', KEYS[3], unpack(stale)) end
  count = redis.call('ZCARD', KEYS[3])
end
-- The empty member (never a valid member name) marks the snapshot and its order, even when nothing matched:
-- score -1 sorts before every distance (ascending pages skip it), -2 stands for descending pages.
local marker = -1
if ARGV[6] == 'DESC' then marker = -2 end
redis.call('ZADD', KEYS[3], marker, '')
redis.call('PEXPIRE', KEYS[3], ARGV[8])
return {0, count}
