-- read-snapshot: one page of a stored search, with current positions, leaving out members since removed or gone stale
-- KEYS[1] geo set
-- KEYS[2] metadata hash
-- KEYS[3] last-seen sorted set
-- KEYS[4] snapshot sorted set (member -> distance)
-- ARGV[1] offset (0-based, in the snapshot's order)
-- ARGV[2] page size
-- ARGV[3] ttl of members in ms (0: members never go stale)
-- ARGV[4] 1 to return metadata, 0 not to
-- Reply: {0, total, member, distance, longitude, latitude, metadata JSON or false, ...}, or {1} when the snapshot expired
local marker = redis.call('ZSCORE', KEYS[4], '')
if not marker then return {1} end
local total = redis.call('ZCARD', KEYS[4]) - 1
local offset, size, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rows
if tonumber(marker) == -1 then
  rows = redis.call('ZRANGE', KEYS[4], offset + 1, offset + size, 'WITHSCORES')
else
  -- Descending: the marker (lowest score) comes last, after every member.
  rows = redis.call('ZRANGE', KEYS[4], offset, math.min(offset + size, total) - 1, 'REV', 'WITHSCORES')
end
local cutoff = 0
if ttl > 0 then
  local time = redis.call('TIME')
  cutoff = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - ttl
end
local reply = {0, total}
for i = 1, #rows, 2 do
  local member = rows[i]
  local position = redis.call('GEOPOS', KEYS[1], member)[1]
  local keep = position ~= false
  if keep and ttl > 0 then
    local seen = redis.call('ZSCORE', KEYS[3], member)
    keep = seen ~= false and tonumber(seen) >= cutoff
  end
  if keep then
    local metadata = false
    if ARGV[4] == '1' then metadata = redis.call('HGET', KEYS[2], member) end
    local n = #reply
    reply[n + 1] = member
    reply[n + 2] = rows[i + 1]
    reply[n + 3] = position[1]
    reply[n + 4] = position[2]
    reply[n + 5] = metadata
  end
end
return reply
