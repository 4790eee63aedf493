-- begin-load: on a miss, reads the entry again and tries to take the key's load lease,
-- so only one process per key runs the loader; stamps when the load starts
-- KEYS[1] entry (string: version|flags|freshUntil|staleUntil|loadMs|tags|payload)
-- KEYS[2] load lease of the key
-- ARGV[1] lease token
-- ARGV[2] lease lifetime, ms
-- Reply: {entry or false, 1 lease taken | 0 held by another, start stamp µs}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local entry = redis.call('GET', KEYS[1])
local taken = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])
return {entry, taken and 1 or 0, string.format('%d', now)}
