-- retire-consumer: removes a stopped consumer from its group, but only when it owns no pending entry (deleting it would drop them)
-- KEYS[1] stream
-- ARGV[1] group
-- ARGV[2] consumer
-- Reply: 1 when removed, 0 when it still owns pending entries (they are claimed by others later)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then return 0 end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
