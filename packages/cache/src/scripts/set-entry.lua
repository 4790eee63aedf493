-- set-entry: writes a cache entry with a version that only grows, unless a newer write
-- happened after the load that produced it started, and tells other processes
-- KEYS[1] entry (string: version|flags|freshUntil|staleUntil|loadMs|tags|payload)
-- KEYS[2] load lease of the key (released when this write holds it)
-- ARGV[1] start stamp in µs (server time when the load started), or 0 to write unconditionally
-- ARGV[2] flags (n negative, z gzipped)
-- ARGV[3] fresh for, ms
-- ARGV[4] grace, ms
-- ARGV[5] load duration, ms
-- ARGV[6] tags (tag=version,…)
-- ARGV[7] payload
-- ARGV[8] lease token, or '' for none
-- ARGV[9] invalidation channel
-- ARGV[10] shard invalidation channel served by this node, or '' (see announce.lua)
-- ARGV[11] shortest tombstone lifetime, ms (as delete-entry's ARGV[1])
-- Reply: {1, version, freshUntil} when written; {0, the newer version} when refused
-- @include entry-format.lua
-- @include announce.lua
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local head = redis.call('GETRANGE', KEYS[1], 0, 24)
local old = entryVersion(head)
local held = ARGV[8] ~= '' and redis.call('GET', KEYS[2]) == ARGV[8]
if held then
  redis.call('DEL', KEYS[2])
end
local start = tonumber(ARGV[1])
if start > 0 and old > start then
  return {0, old}
end
-- A delete's tombstone outlives every lease held when it was written, but only ARGV[11] beyond
-- that: a load without its lease that finds no entry may have outlived a tombstone, so it
-- writes nothing once it is older than that (the caller still gets its value).
if start > 0 and not held and head == '' and now - start > tonumber(ARGV[11]) * 1000 then
  return {0, 0}
end
local version = math.max(old + 1, now)
local fresh = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
local freshUntil = math.floor(now / 1000) + fresh
redis.call('SET', KEYS[1], encodeEntry(version, ARGV[2], freshUntil, freshUntil + grace, ARGV[5], ARGV[6], ARGV[7]),
  'PX', fresh + grace)
announce(ARGV[9], ARGV[10], 'k|' .. string.format('%d', version) .. '|' .. KEYS[1])
return {1, version, freshUntil}
