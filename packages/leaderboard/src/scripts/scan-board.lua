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
for index = 1, #items do reply[#reply + 1] = items[index] end
if ARGV[3] == '1' and items[1] then
  local members = {}
  for index = 1, #items, 2 do members[#members + 1] = items[index] end
  local metadata = redis.call('HMGET', KEYS[2], unpack(members))
  for index = 1, #metadata do reply[#reply + 1] = metadata[index] end
end
return reply
