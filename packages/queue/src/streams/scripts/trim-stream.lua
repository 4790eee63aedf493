-- trim-stream: trims the stream by length and/or age, but never past an entry that some group has not yet delivered or acknowledged
-- KEYS[1] stream
-- ARGV[1] keep at most this many entries (-1: no length bound)
-- ARGV[2] drop entries older than this many ms (-1: no age bound)
-- ARGV[3] drop entries with ids below this one ('' for none)
-- ARGV[4] '1' to remove nothing while the stream has no consumer group (automatic trim: nothing has been read yet), '0' to trim by the bounds alone then
-- Reply: {entries removed, the MINID used ('' when nothing was trimmed)}
local maxLen, maxAge, minId = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]

local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local ams, aseq = parse(a)
  local bms, bseq = parse(b)
  return ams < bms or (ams == bms and aseq < bseq)
end

-- What the caller asked for: the highest of the bounds.
local target = nil
local function raise(id)
  if target == nil or less(target, id) then target = id end
end
if minId ~= '' then raise(minId) end
if maxAge >= 0 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  raise(string.format('%d-0', now - maxAge))
end
if maxLen >= 0 then
  local length = redis.call('XLEN', KEYS[1])
  if length > maxLen then
    if maxLen == 0 then
      local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
      local ms, seq = parse(last[1][1])
      raise(string.format('%d-%d', ms, seq + 1))
    elseif length - maxLen < maxLen then
      -- Few to remove: read those (and the first kept one) rather than every kept entry.
      local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', length - maxLen + 1)
      raise(head[#head][1])
    else
      local kept = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', maxLen)
      raise(kept[#kept][1])
    end
  end
end
if target == nil or redis.call('EXISTS', KEYS[1]) == 0 then return {0, ''} end

-- Never past what any group still needs: its oldest pending entry, or what it has not read yet.
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 and ARGV[4] == '1' then return {0, ''} end
for _, group in ipairs(groups) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  local safe = fields['last-delivered-id']
  if tonumber(fields['pending']) > 0 then
    local oldest = redis.call('XPENDING', KEYS[1], fields['name'], '-', '+', 1)
    if #oldest > 0 and less(oldest[1][1], safe) then safe = oldest[1][1] end
  else
    -- Everything up to the last delivered entry was acknowledged: that one may go too.
    local ms, seq = parse(safe)
    safe = string.format('%d-%d', ms, seq + 1)
  end
  if less(safe, target) then target = safe end
end
return {redis.call('XTRIM', KEYS[1], 'MINID', target), target}
