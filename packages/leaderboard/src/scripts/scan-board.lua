-- scan-board: one ZSCAN step over a board, with the members' metadata (export)
-- KEYS[1] board (sorted set: member → composite score)
-- KEYS[2] metadata (hash: member → JSON)
-- ARGV[1] ZSCAN cursor ("0" to start)
-- ARGV[2] COUNT hint
-- ARGV[3] 1 to return metadata
-- Reply: {next cursor ("0" when done), member, composite, member, composite, …, then per member its
--   metadata JSON (nil when none) if ARGV[3] is 1}

local page = redis.call('ZSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local items = page[2]
local reply = { page[1] }
-- @include append-entries.lua
return append_entries(reply, items, KEYS[2], ARGV[3] == '1')
