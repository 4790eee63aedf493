-- count-members: how many members a board has
-- KEYS[1] board (sorted set: member → composite score); a combined board when KEYS[5...] are given
-- KEYS[2] the board's distinct-score index (used when a combined board is built)
-- KEYS[3] metadata (hash; unused, listed so every read takes the same keys)
-- KEYS[4] registry of period and combined boards (sorted set: key → expiry in ms)
-- KEYS[5...] boards to combine into KEYS[1] when it does not exist (optional; see union-prelude.lua)
-- ARGV[1] SUM | MAX: how a combined board aggregates
-- ARGV[2] ms to keep a combined board
-- ARGV[3] 1 when the board keeps a distinct-score index
-- ARGV[4] slot: composite = level * slot + tie
-- Reply: the number of members

-- @include union-prelude.lua

return redis.call('ZCARD', KEYS[1])
