-- promote-due: moves retries whose time has come from the delayed set back onto the stream
-- KEYS[1] stream
-- KEYS[2] delayed sorted set: '<entry id>/<group>' -> due time (ms, Redis clock)
-- KEYS[3] delayed hash: '<entry id>/<group>' -> JSON {d, n, e, g, o, h}
-- ARGV[1] most entries to move in this call
-- Reply: {moved, ms until the next retry is due or -1 when none is waiting}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local encoded = redis.call('HGET', KEYS[3], member)
  if encoded then
    local record = cjson.decode(encoded)
    redis.call('XADD', KEYS[1], '*', 'd', record.d, 'n', record.n, 'e', record.e, 'g', record.g, 'o', record.o,
      'h', record.h or 0)
    redis.call('HDEL', KEYS[3], member)
  end
  redis.call('ZREM', KEYS[2], member)
end
local nextDue = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local wait = -1
if #nextDue > 0 then
  wait = tonumber(nextDue[2]) - now
  if wait < 0 then wait = 0 end
end
return {#due, wait}
