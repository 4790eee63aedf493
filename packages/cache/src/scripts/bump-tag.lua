-- bump-tag: invalidates a tag: its version moves past every version an entry holds for it
-- KEYS[1] tag version (string, µs)
-- ARGV[1] how long the version is kept, ms (longer than any tagged entry lives)
-- ARGV[2] invalidation channel
-- ARGV[3] the tag's name
-- ARGV[4] shard invalidation channel served by this node, or '' (see announce.lua)
-- Reply: the new version
-- @include announce.lua
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local version = string.format('%d', math.max(old + 1, now))
redis.call('SET', KEYS[1], version, 'PX', ARGV[1])
announce(ARGV[2], ARGV[4], 't|' .. version .. '|' .. ARGV[3])
return version
