-- write-behind-entry: writes a cache entry (or a tombstone) with a version that only grows and, in the
-- same atomic step, appends the write to its partition's stream for the flusher, and tells other processes
-- KEYS[1] entry (string: version|flags|freshUntil|staleUntil|loadMs|tags|payload)
-- KEYS[2] the partition's stream (@redkit/queue layout; same hash tag as the entry)
-- KEYS[3] the partition's version floor (the highest version it handed out; outlives entries)
-- KEYS[4] load lease of the key (a tombstone outlives it, as in delete-entry)
-- ARGV[1] flags ('' or 'z' gzipped; 'd' writes a tombstone)
-- ARGV[2] fresh for, ms (a tombstone: its shortest life)
-- ARGV[3] grace, ms
-- ARGV[4] tags (tag=version,…)
-- ARGV[5] payload of the entry
-- ARGV[6] invalidation channel
-- ARGV[7] the stream message up to its version: '{"key":<json>,"version":'
-- ARGV[8] the rest of the message, or '' for ',"value":' .. payload .. '}' (an uncompressed JSON payload)
-- ARGV[9] shard invalidation channel served by this node, or '' (see announce.lua)
-- Reply: the write's version
-- @include entry-format.lua
-- @include announce.lua
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local head = redis.call('GETRANGE', KEYS[1], 0, 24)
local old = entryVersion(head)
-- The floor keeps versions growing when the entry expired or was evicted and the clock went back (a failover).
local floor = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
local version = math.max(old + 1, floor + 1, now)
local v = string.format('%d', version)
redis.call('SET', KEYS[3], v)
if ARGV[1] == 'd' then
  local lifetime = math.max(tonumber(ARGV[2]), redis.call('PTTL', KEYS[4]) + 1000)
  redis.call('SET', KEYS[1], tombstone(version), 'PX', lifetime)
else
  local fresh = tonumber(ARGV[2])
  local grace = tonumber(ARGV[3])
  local freshUntil = math.floor(now / 1000) + fresh
  redis.call('SET', KEYS[1], encodeEntry(version, ARGV[1], freshUntil, freshUntil + grace, '0', ARGV[4], ARGV[5]),
    'PX', fresh + grace)
end
local tail = ARGV[8]
if tail == '' then tail = ',"value":' .. ARGV[5] .. '}' end
redis.call('XADD', KEYS[2], '*', 'd', ARGV[7] .. v .. tail)
announce(ARGV[6], ARGV[9], 'k|' .. v .. '|' .. KEYS[1])
return version
