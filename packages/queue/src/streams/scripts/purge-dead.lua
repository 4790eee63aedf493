-- purge-dead: deletes every dead letter
-- KEYS[1] dead-letter stream
-- Reply: how many dead letters were deleted
local count = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return count
