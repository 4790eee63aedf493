-- remove-member: removes a member from boards, keeping their distinct-score indexes right
-- KEYS[1] metadata (hash: member → JSON)
-- KEYS[2...] pairs: a board (sorted set: member → composite score), then its distinct-score index
-- ARGV[1] member
-- ARGV[2] slot: composite = level * slot + tie
-- ARGV[3] 1 when the boards keep distinct-score indexes
-- ARGV[4] 1 to delete the member's metadata too
-- Reply: the number of boards the member was removed from

local member = ARGV[1]
local slot = tonumber(ARGV[2])
local removed = 0
for index = 2, #KEYS, 2 do
  local composite = redis.call('ZSCORE', KEYS[index], member)
  if composite then
    redis.call('ZREM', KEYS[index], member)
    removed = removed + 1
    if ARGV[3] == '1' then
      local level = math.floor(tonumber(composite) / slot)
      local low = level * slot
      if redis.call('ZCOUNT', KEYS[index], string.format('%.0f', low), string.format('%.0f', low + slot - 1)) == 0 then
        redis.call('ZREM', KEYS[index + 1], string.format('%.0f', level))
      end
    end
  end
end
if ARGV[4] == '1' then redis.call('HDEL', KEYS[1], member) end
return removed
