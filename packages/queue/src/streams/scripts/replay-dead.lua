-- replay-dead: puts a dead letter back on the stream with a fresh attempt count, for the group it died in
-- KEYS[1] stream
-- KEYS[2] dead-letter stream
-- ARGV[1] dead-letter id
-- Reply: the new stream entry id, or false when there is no such dead letter
local entry = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #entry == 0 then return false end
local fields = {}
local raw = entry[1][2]
for i = 1, #raw, 2 do fields[raw[i]] = raw[i + 1] end
local id = redis.call('XADD', KEYS[1], '*', 'd', fields['d'] or '', 'n', 0, 'g', fields['g'] or '', 'o', fields['o'] or ARGV[1])
redis.call('XDEL', KEYS[2], ARGV[1])
return id
