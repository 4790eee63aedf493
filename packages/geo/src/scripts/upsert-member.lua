-- upsert-member: sets a member's position (and metadata), records when it was seen, evicts a few stale members
-- KEYS[1] geo set (sorted set of geohashes)
-- KEYS[2] metadata hash (member -> JSON)
-- KEYS[3] last-seen sorted set (member -> ms, Redis TIME)
-- ARGV[1] member
-- ARGV[2] longitude
-- ARGV[3] latitude
-- ARGV[4] mode: 'a' adds only when the member is absent (or stale), 'u' adds or updates
-- ARGV[5] metadata: 's' sets ARGV[6], 'k' keeps what is stored
-- ARGV[6] metadata JSON
-- ARGV[7] ttl in ms (0: members never go stale, and last-seen is not recorded)
-- ARGV[8] at most this many stale members to evict
-- Reply: {created (0|1), written (0|1), evicted}
local member, mode, ttl = ARGV[1], ARGV[4], tonumber(ARGV[7])
local evicted = 0
local now = 0
if ttl > 0 then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  -- Stale members go first, so a stale copy of this member counts as absent.
  local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - ttl), 'LIMIT', 0, tonumber(ARGV[8]))
  if #stale > 0 then
    redis.call('ZREM', KEYS[1], unpack(stale))
    redis.call('HDEL', KEYS[2], unpack(stale))
    redis.call('ZREM', KEYS[3], unpack(stale))
    evicted = #stale
  end
end
local exists = redis.call('ZSCORE', KEYS[1], member)
if exists and ttl > 0 then
  local seen = redis.call('ZSCORE', KEYS[3], member)
  if not seen or tonumber(seen) < now - ttl then
    -- Stale but beyond this call's eviction batch: it is gone for readers, so it is replaced.
    redis.call('HDEL', KEYS[2], member)
    exists = false
  end
end
if exists and mode == 'a' then
  return {0, 0, evicted}
end
redis.call('GEOADD', KEYS[1], ARGV[2], ARGV[3], member)
if ARGV[5] == 's' then
  redis.call('HSET', KEYS[2], member, ARGV[6])
elseif not exists then
  redis.call('HDEL', KEYS[2], member)
end
if ttl > 0 then
  redis.call('ZADD', KEYS[3], now, member)
end
if exists then
  return {0, 1, evicted}
end
return {1, 1, evicted}
