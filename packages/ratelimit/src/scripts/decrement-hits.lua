-- decrement-hits: takes back one hit of an express-rate-limit client (skipSuccessfulRequests / skipFailedRequests)
-- KEYS[1] hit counter of the client
-- Reply: the hits left in the window, or -1 when there was no window to take from

-- A window that has ended is not recreated (a bare DECR would leave a negative
-- counter without expiry), and a count never goes below zero.
local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
if hits <= 0 then return -1 end
return redis.call('DECR', KEYS[1])
