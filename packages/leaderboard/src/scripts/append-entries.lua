-- append-entries: append_entries(reply, items, metadata_key, with_metadata) appends the member, composite
--   pairs of a ZRANGE or ZSCAN reply (items) to reply, then, when with_metadata, each member's metadata
--   JSON (nil when none), read with one HMGET of metadata_key. Included by read-range and scan-board,
--   which pass their own metadata key (one of their KEYS) and return what it returns.

local function append_entries(reply, items, metadata_key, with_metadata)
  for index = 1, #items do reply[#reply + 1] = items[index] end
  if with_metadata and items[1] then
    local members = {}
    for index = 1, #items, 2 do members[#members + 1] = items[index] end
    local metadata = redis.call('HMGET', metadata_key, unpack(members))
    for index = 1, #metadata do reply[#reply + 1] = metadata[index] end
  end
  return reply
end
