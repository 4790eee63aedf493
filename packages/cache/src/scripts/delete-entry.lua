-- delete-entry: replaces an entry by a tombstone whose version is newer than any load in
-- flight, so a load that started before the delete cannot write the old value back: the
-- tombstone outlives the key's load lease (its holder may write until the lease expires), and
-- a load without its lease writes nothing over a missing entry once it is older than ARGV[1]
-- (see set-entry), so no load that began before the delete outlives the tombstone
-- KEYS[1] entry (string: version|flags|freshUntil|staleUntil|loadMs|tags|payload)
-- KEYS[2] load lease of the key
-- ARGV[1] shortest tombstone lifetime, ms (the cache's hard timeout + 1 s)
-- ARGV[2] invalidation channel
-- ARGV[3] shard invalidation channel served by this node, or '' (see announce.lua)
-- Reply: {1 when a live entry was deleted else 0, the tombstone's version}
-- @include entry-format.lua
-- @include announce.lua
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local head = redis.call('GETRANGE', KEYS[1], 0, 40)
local old = entryVersion(head)
local flags = string.match(head, '^%d+|(%a*)|') or 'd'
local version = string.format('%d', math.max(old + 1, now))
local lifetime = math.max(tonumber(ARGV[1]), redis.call('PTTL', KEYS[2]) + 1000)
redis.call('SET', KEYS[1], tombstone(version), 'PX', lifetime)
announce(ARGV[2], ARGV[3], 'k|' .. version .. '|' .. KEYS[1])
local deleted = 0
if head ~= '' and not string.find(flags, 'd', 1, true) then deleted = 1 end
return {deleted, version}
