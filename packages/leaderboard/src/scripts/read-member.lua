-- read-member: one member's score, rank (in any style), percentile and metadata
-- KEYS[1] board (sorted set: member → composite score); a combined board when KEYS[5...] are given
-- KEYS[2] the board's distinct-score index (sorted set: level → level; read for dense ranks)
-- KEYS[3] metadata (hash: member → JSON)
-- KEYS[4] registry of period and combined boards (sorted set: key → expiry in ms)
-- KEYS[5...] boards to combine into KEYS[1] when it does not exist (optional; see union-prelude.lua)
-- ARGV[1] SUM | MAX: how a combined board aggregates
-- ARGV[2] ms to keep a combined board
-- ARGV[3] 1 when the board keeps a distinct-score index
-- ARGV[4] slot: composite = level * slot + tie
-- ARGV[5] member
-- ARGV[6] what to compute, any of: o (ordinal position), c (members with a higher score),
--   d (distinct higher scores), p (members with a lower score, with the same score, in total), m (metadata)
-- Reply: {nil} when the member is not on the board; otherwise {composite, position (0-based),
--   higher, distinct higher, lower, same, total, metadata JSON or nil}; what was not asked for is 0

-- @include union-prelude.lua

local board = KEYS[1]
local slot = tonumber(ARGV[4])
local want = ARGV[6]
local composite = redis.call('ZSCORE', board, ARGV[5])
if not composite then return { false } end
local level = math.floor(tonumber(composite) / slot)
local low = string.format('%.0f', level * slot)
local reply = { composite, 0, 0, 0, 0, 0, 0, false }
if string.find(want, 'o', 1, true) then reply[2] = redis.call('ZREVRANK', board, ARGV[5]) end
if string.find(want, 'c', 1, true) then
  reply[3] = redis.call('ZCOUNT', board, string.format('%.0f', (level + 1) * slot), '+inf')
end
if string.find(want, 'd', 1, true) then
  reply[4] = redis.call('ZCOUNT', KEYS[2], '(' .. string.format('%.0f', level), '+inf')
end
if string.find(want, 'p', 1, true) then
  reply[5] = redis.call('ZCOUNT', board, '-inf', '(' .. low)
  reply[6] = redis.call('ZCOUNT', board, low, string.format('%.0f', (level + 1) * slot - 1))
  reply[7] = redis.call('ZCARD', board)
end
if string.find(want, 'm', 1, true) then reply[8] = redis.call('HGET', KEYS[3], ARGV[5]) end
return reply
