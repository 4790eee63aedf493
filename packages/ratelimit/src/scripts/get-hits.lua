-- get-hits: reads an express-rate-limit client's hits and the time left in its window, without counting
-- KEYS[1] hit counter of the client
-- Reply: {hits, ms until the window ends}, or an empty list when the client has no window

local hits = redis.call('GET', KEYS[1])
if not hits then return {} end
return { tonumber(hits), redis.call('PTTL', KEYS[1]) }
