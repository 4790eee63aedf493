-- delete-entry: replaces an entry by a tombstone whose version is newer than any load
-- in flight, so a load that started before the delete cannot write the old value back
-- KEYS[1] entry (string: version|flags|freshUntil|staleUntil|loadMs|tags|payload)
-- ARGV[1] tombstone lifetime, ms (the longest a load may run)
-- ARGV[2] invalidation channel
-- ARGV[3] shard invalidation channel served by this node, or '' (see announce.lua)
-- Reply: {1 when a live entry was deleted else 0, the tombstone's version}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local head = redis.call('GETRANGE', KEYS[1], 0, 40)
local old = tonumber(string.match(head, '^(%d+)|')) or 0
local flags = string.match(head, '^%d+|(%a*)|') or 'd'
local version = string.format('%d', math.max(old + 1, now))
redis.call('SET', KEYS[1], version .. '|d|0|0|0||', 'PX', ARGV[1])
announce(ARGV[2], ARGV[3], 'k|' .. version .. '|' .. KEYS[1])
local deleted = 0
if head ~= '' and not string.find(flags, 'd', 1, true) then deleted = 1 end
return {deleted, version}
