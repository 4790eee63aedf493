-- read-range: a window of a board, best first: by position (top, page) or around a member
-- KEYS[1] board (sorted set: member → composite score); a combined board when KEYS[5...] are given
-- KEYS[2] the board's distinct-score index (sorted set: level → level; read for dense ranks)
-- KEYS[3] metadata (hash: member → JSON)
-- KEYS[4] registry of period and combined boards (sorted set: key → expiry in ms)
-- KEYS[5...] boards to combine into KEYS[1] when it does not exist (optional; see union-prelude.lua)
-- ARGV[1] SUM | MAX: how a combined board aggregates
-- ARGV[2] ms to keep a combined board
-- ARGV[3] 1 when the board keeps a distinct-score index
-- ARGV[4] slot: composite = level * slot + tie
-- ARGV[5] p: positions ARGV[6] … ARGV[7] (0-based) | a: around member ARGV[6] with radius ARGV[7]
-- ARGV[6] first position, or the member
-- ARGV[7] last position, or the radius
-- ARGV[8] 1 to return metadata
-- ARGV[9] rank style: o (ordinal) | c (competition) | d (dense)
-- Reply: {-1} when the member of an around read is not on the board; otherwise
--   {position of the first entry, members ranked above the first entry's score (c) or distinct
--   scores above it (d) or 0 (o), member, composite, member, composite, …, then per entry its
--   metadata JSON (nil when none) if ARGV[8] is 1}

-- @include union-prelude.lua

local board = KEYS[1]
local slot = tonumber(ARGV[4])
local start, stop
if ARGV[5] == 'a' then
  local rank = redis.call('ZREVRANK', board, ARGV[6])
  if not rank then return { -1 } end
  local radius = tonumber(ARGV[7])
  local size = radius * 2 + 1
  -- The window keeps its size at the edges: near the top or bottom it shifts instead of shrinking.
  start = math.max(0, math.min(rank - radius, redis.call('ZCARD', board) - size))
  stop = start + size - 1
else
  start = tonumber(ARGV[6])
  stop = tonumber(ARGV[7])
end

local items = redis.call('ZRANGE', board, start, stop, 'REV', 'WITHSCORES')
local reply = { start, 0 }
if items[2] and ARGV[9] ~= 'o' then
  local level = math.floor(tonumber(items[2]) / slot)
  if ARGV[9] == 'c' then
    reply[2] = redis.call('ZCOUNT', board, string.format('%.0f', (level + 1) * slot), '+inf')
  else
    reply[2] = redis.call('ZCOUNT', KEYS[2], '(' .. string.format('%.0f', level), '+inf')
  end
end
-- @include append-entries.lua
return append_entries(reply, items, KEYS[3], ARGV[8] == '1')
