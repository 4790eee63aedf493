-- trim-board: keeps only the best N members of a board
-- KEYS[1] board (sorted set: member → composite score)
-- KEYS[2] the board's distinct-score index (sorted set: level → level)
-- KEYS[3] metadata (hash: member → JSON)
-- ARGV[1] how many members to keep
-- ARGV[2] slot: composite = level * slot + tie
-- ARGV[3] 1 when the board keeps a distinct-score index
-- ARGV[4] 1 to delete the metadata of the members removed
-- Reply: the number of members removed

local keep = tonumber(ARGV[1])
local excess = redis.call('ZCARD', KEYS[1]) - keep
if excess <= 0 then return 0 end
if ARGV[4] == '1' then
  -- Ascending order: the worst members come first.
  local members = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
  for first = 1, #members, 1000 do
    redis.call('HDEL', KEYS[3], unpack(members, first, math.min(first + 999, #members)))
  end
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
if ARGV[3] == '1' then
  local lowest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  if lowest then
    local level = math.floor(tonumber(lowest) / tonumber(ARGV[2]))
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. string.format('%.0f', level))
  else
    redis.call('DEL', KEYS[2])
  end
end
return excess
