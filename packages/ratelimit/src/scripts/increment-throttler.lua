-- increment-throttler: counts one @nestjs/throttler hit with the semantics of its in-memory storage
-- KEYS[1] record hash of the tracker key: e = window end, b = block end (ms), k = 1 while blocked, n = hit sequence
-- KEYS[2] sorted set of this throttler's hits, each scored by the time it expires (ms)
-- ARGV[1] ttl (ms)
-- ARGV[2] limit
-- ARGV[3] block duration (ms); 0 or less: hits over the limit are refused but never block
-- Reply: {totalHits, timeToExpire (s), isBlocked (0|1), timeToBlockExpire (s)}
--
-- The in-memory storage keeps one record per key (window end, block flag and
-- end) and, per throttler name, the expiry time of every hit it counted: the
-- count is a sliding log, the window end a fixed window restarted on first use
-- after it passed. This script keeps the same two things in Redis and applies
-- them in the same order, so the block-then-reset sequence is atomic.

local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local blockDuration = tonumber(ARGV[3])

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local record = redis.call('HMGET', KEYS[1], 'e', 'b', 'k', 'n')
local windowEnd = tonumber(record[1]) or (now + ttl)
local blockEnd = tonumber(record[2]) or 0
local blocked = record[3] == '1'
local sequence = tonumber(record[4]) or 0

-- Whole seconds, rounded up, as the in-memory storage reports them.
local function seconds(ms)
  return math.ceil(ms / 1000)
end

-- A hit lives until its own expiry; one that expires now is gone.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local hits = redis.call('ZCARD', KEYS[2])

local function addHit()
  sequence = sequence + 1
  -- The time makes the member unique even if the record was lost meanwhile.
  redis.call('ZADD', KEYS[2], now + ttl, time[1] .. '.' .. time[2] .. ':' .. sequence)
  hits = hits + 1
end

local timeToExpire = seconds(windowEnd - now)
if timeToExpire <= 0 then
  windowEnd = now + ttl
  timeToExpire = seconds(ttl)
end

local totalHits
local timeToBlockExpire = 0
local isBlocked
if blockDuration <= 0 then
  -- Without a block, a hit over the limit is refused and not counted; the
  -- record's block flag is neither read nor written (as in memory).
  isBlocked = hits >= limit
  if isBlocked then
    totalHits = hits + 1
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    timeToBlockExpire = oldest[2] and seconds(tonumber(oldest[2]) - now) or timeToExpire
  else
    addHit()
    totalHits = hits
  end
else
  -- While blocked, hits are neither counted nor extend the block.
  if not blocked then
    addHit()
    if hits > limit then
      blocked = true
      blockEnd = now + blockDuration
    end
  end
  timeToBlockExpire = seconds(blockEnd - now)
  if blocked and timeToBlockExpire <= 0 then
    -- The block is over: the count starts again with this hit.
    blocked = false
    redis.call('DEL', KEYS[2])
    hits = 0
    addHit()
  end
  isBlocked = blocked
  totalHits = hits
  -- Outside a block the in-memory value is meaningless (negative); the guard ignores it.
  if not blocked then
    timeToBlockExpire = 0
  end
end

-- Keys live as long as the in-memory record would: until the window, the
-- block and the last hit are all over.
local hitsTtl = redis.call('PTTL', KEYS[2])
local newest = math.ceil(ttl)
if hits > 0 and hitsTtl < newest then
  redis.call('PEXPIRE', KEYS[2], newest)
  hitsTtl = newest
end
local keep = math.max(windowEnd - now, hitsTtl)
if blocked then
  keep = math.max(keep, blockEnd - now)
end
redis.call('HSET', KEYS[1], 'e', windowEnd, 'b', blockEnd, 'k', blocked and 1 or 0, 'n', sequence)
redis.call('PEXPIRE', KEYS[1], math.ceil(keep))

return {totalHits, timeToExpire, isBlocked and 1 or 0, timeToBlockExpire}
