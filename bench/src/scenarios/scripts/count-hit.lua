-- count-hit: count one hit in a fixed window
-- KEYS[1] counter of the current window
-- ARGV[1] window length in ms
-- Reply: the number of hits in the window, this one included
local count = redis.call('INCR', KEYS[1])
-- NX: only the first hit starts the window, later hits must not extend it.
redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX')
return count
