-- evict-stale: removes members not seen within the ttl, with their metadata
-- KEYS[1] geo set
-- KEYS[2] metadata hash
-- KEYS[3] last-seen sorted set
-- ARGV[1] ttl in ms
-- ARGV[2] at most this many members per call
-- Reply: how many members were evicted
local time = redis.call('TIME')
local cutoff = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - tonumber(ARGV[1])
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. cutoff, 'LIMIT', 0, tonumber(ARGV[2]))
if #stale == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(stale))
redis.call('HDEL', KEYS[2], unpack(stale))
redis.call('ZREM', KEYS[3], unpack(stale))
return #stale
