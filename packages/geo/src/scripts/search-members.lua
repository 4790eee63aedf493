-- search-members: GEOSEARCH by radius or box, without stale members, optionally kept only inside a polygon
-- KEYS[1] geo set
-- KEYS[2] metadata hash
-- KEYS[3] last-seen sorted set
-- ARGV[1] origin: 'p' a point (ARGV[2] longitude, ARGV[3] latitude) or 'm' a member (ARGV[2])
-- ARGV[4] shape: 'r' radius ARGV[5], or 'b' box of width ARGV[5] and height ARGV[6]
-- ARGV[7] unit of the shape and of the distances returned
-- ARGV[8] ASC or DESC
-- ARGV[9] most results returned
-- ARGV[10] ttl in ms (0: members never go stale)
-- ARGV[11] 1 to return metadata, 0 not to
-- ARGV[12...] polygon vertices as longitude, latitude pairs (none: no polygon filter)
-- Reply: {0, member, distance, longitude, latitude, metadata JSON or false, ...}, or {1} when the origin member is absent or stale
local ttl, limit = tonumber(ARGV[10]), tonumber(ARGV[9])
local cutoff = 0
if ttl > 0 then
  local time = redis.call('TIME')
  cutoff = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - ttl
end

local search = {'GEOSEARCH', KEYS[1]}
if ARGV[1] == 'm' then
  if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return {1} end
  if ttl > 0 then
    local seen = redis.call('ZSCORE', KEYS[3], ARGV[2])
    if not seen or tonumber(seen) < cutoff then return {1} end
  end
  search[#search + 1] = 'FROMMEMBER'
  search[#search + 1] = ARGV[2]
else
  search[#search + 1] = 'FROMLONLAT'
  search[#search + 1] = ARGV[2]
  search[#search + 1] = ARGV[3]
end
if ARGV[4] == 'r' then
  search[#search + 1] = 'BYRADIUS'
  search[#search + 1] = ARGV[5]
else
  search[#search + 1] = 'BYBOX'
  search[#search + 1] = ARGV[5]
  search[#search + 1] = ARGV[6]
end
search[#search + 1] = ARGV[7]
search[#search + 1] = ARGV[8]
search[#search + 1] = 'COUNT'
search[#search + 1] = limit
local countAt = #search
search[#search + 1] = 'WITHDIST'
search[#search + 1] = 'WITHCOORD'

local xs, ys = {}, {}
for i = 12, #ARGV, 2 do
  xs[#xs + 1] = tonumber(ARGV[i])
  ys[#ys + 1] = tonumber(ARGV[i + 1])
end
local vertices = #xs

-- Even-odd rule: a ray from the point crosses the boundary an odd number of times when inside.
local function inside(x, y)
  local result = false
  local j = vertices
  for i = 1, vertices do
    local xi, yi, xj, yj = xs[i], ys[i], xs[j], ys[j]
    if ((yi > y) ~= (yj > y)) and (x < (xj - xi) * (y - yi) / (yj - yi) + xi) then
      result = not result
    end
    j = i
  end
  return result
end

local filtering = ttl > 0 or vertices > 0
local count = limit
local reply = {0}
while true do
  search[countAt] = count
  local rows = redis.call(unpack(search))
  reply = {0}
  local kept = 0
  for _, row in ipairs(rows) do
    local member, coord = row[1], row[3]
    local keep = true
    if ttl > 0 then
      local seen = redis.call('ZSCORE', KEYS[3], member)
      keep = seen ~= false and tonumber(seen) >= cutoff
    end
    if keep and vertices > 0 then keep = inside(tonumber(coord[1]), tonumber(coord[2])) end
    if keep then
      local metadata = false
      if ARGV[11] == '1' then metadata = redis.call('HGET', KEYS[2], member) end
      local n = #reply
      reply[n + 1] = member
      reply[n + 2] = row[2]
      reply[n + 3] = coord[1]
      reply[n + 4] = coord[2]
      reply[n + 5] = metadata
      kept = kept + 1
      if kept == limit then break end
    end
  end
  -- Done when enough survived the filters, or the search found everything there is.
  if not filtering or kept == limit or #rows < count then break end
  count = count * 4
end
return reply
