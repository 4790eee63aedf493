-- add-message: appends a message once per idempotency key
-- KEYS[1] stream
-- KEYS[2] dedupe key of the idempotency key (string: the id of the first add)
-- ARGV[1] message data (JSON)
-- ARGV[2] idempotency key (stored on the entry, field k)
-- ARGV[3] how long the idempotency key is remembered, in ms
-- ARGV[4] the entry id, or '*' for one the server picks
-- Reply: {1, id} when added, {0, id of the first add} when the key was seen before
local first = redis.call('GET', KEYS[2])
if first then return {0, first} end
local id = redis.call('XADD', KEYS[1], ARGV[4], 'd', ARGV[1], 'k', ARGV[2])
redis.call('SET', KEYS[2], id, 'NX', 'PX', ARGV[3])
return {1, id}
