-- set-replica: writes one copy of a replicated entry with the version its primary entry
-- got, unless the copy already holds that version or a newer one (copies of one key live
-- in different slots, so each is written by its own call, in any order)
-- KEYS[1] copy of the entry (string: version|flags|freshUntil|staleUntil|loadMs|tags|payload)
-- ARGV[1] version (µs, as set-entry or delete-entry gave the primary entry)
-- ARGV[2] the whole entry text, starting with that version
-- ARGV[3] lifetime, ms
-- Reply: 1 written, 0 refused (the copy holds this version or a newer one)
local head = redis.call('GETRANGE', KEYS[1], 0, 24)
local old = tonumber(string.match(head, '^(%d+)|')) or 0
if old >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
