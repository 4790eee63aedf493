-- hit-fixed-window: count one hit in a window that starts at the subject's first hit (the minimal baseline)
-- KEYS[1] counter of the current window
-- ARGV[1] window length in ms
-- Reply: the number of hits in the window, this one included
local count = redis.call('INCR', KEYS[1])
-- Only the first hit starts the window; later hits must not extend it.
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
