-- extend-claims: heartbeat of a busy consumer: resets the idle time of the entries it still owns so they are not claimed
-- KEYS[1] stream
-- ARGV[1] group
-- ARGV[2] consumer
-- ARGV[3...] entry ids in flight
-- Reply: the ids this consumer no longer owns (claimed by another, or acked)
local group, consumer = ARGV[1], ARGV[2]
local lost = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local pending = redis.call('XPENDING', KEYS[1], group, id, id, 1)
  if #pending > 0 and pending[1][2] == consumer then
    redis.call('XCLAIM', KEYS[1], group, consumer, 0, id, 'JUSTID')
  else
    lost[#lost + 1] = id
  end
end
return lost
