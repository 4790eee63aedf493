-- fail-message: after a failed delivery, schedules a retry with backoff or moves the message to the dead letters; acks it either way
-- KEYS[1] stream
-- KEYS[2] delayed sorted set: '<entry id>/<group>' -> due time (ms, Redis clock)
-- KEYS[3] delayed hash: '<entry id>/<group>' -> JSON {d, n, e, g, o, h}
-- KEYS[4] dead-letter stream
-- ARGV[1] group
-- ARGV[2] consumer (must still own the entry)
-- ARGV[3] entry id
-- ARGV[4] error text
-- ARGV[5] max deliveries
-- ARGV[6] initial backoff in ms
-- ARGV[7] max backoff in ms
-- ARGV[8] jitter: fraction of the delay that is random, 0..1
-- ARGV[9] a random number in [0, 1) (the client's; only the jitter depends on it)
-- ARGV[10] '' to retry normally; 'throttled' to put it back without counting an attempt (no permit was free); any other reason dead-letters it now, e.g. 'invalid'
-- Reply: {'retry' or 'throttled', attempts, delay ms} | {'dead', attempts, dead-letter id} | {'lost', 0, ''} when not pending or owned by another consumer | {'gone', 0, ''} when the entry no longer exists
local group, consumer, id = ARGV[1], ARGV[2], ARGV[3]
local pending = redis.call('XPENDING', KEYS[1], group, id, id, 1)
if #pending == 0 or pending[1][2] ~= consumer then return {'lost', 0, ''} end
local deliveries = tonumber(pending[1][4])
local entry = redis.call('XRANGE', KEYS[1], id, id)
if #entry == 0 then
  redis.call('XACK', KEYS[1], group, id)
  return {'gone', 0, ''}
end
local fields = {}
local raw = entry[1][2]
for i = 1, #raw, 2 do fields[raw[i]] = raw[i + 1] end
local attempts = tonumber(fields['n'] or '0') + deliveries
local throttles = 0
local throttled = ARGV[10] == 'throttled'
local lastError = ARGV[4]
local exponent = attempts - 1
if throttled then
  -- The handler did not run: this delivery is not an attempt, and the backoff grows with the throttles in a row.
  attempts = attempts - 1
  throttles = tonumber(fields['h'] or '0') + 1
  exponent = throttles - 1
  lastError = fields['e'] or ''
end
local original = fields['o'] or id
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local maxDeliveries = tonumber(ARGV[5])
redis.call('XACK', KEYS[1], group, id)
if not throttled and (ARGV[10] ~= '' or attempts >= maxDeliveries) then
  local reason = ARGV[10]
  if reason == '' then reason = 'max-deliveries' end
  local deadId = redis.call('XADD', KEYS[4], '*', 'd', fields['d'] or '', 'n', attempts, 'e', ARGV[4], 'r', reason,
    'g', group, 'o', original, 't', now)
  return {'dead', attempts, deadId}
end
local delay = tonumber(ARGV[6]) * math.pow(2, exponent)
local cap = tonumber(ARGV[7])
if delay > cap then delay = cap end
delay = math.floor(delay * (1 - tonumber(ARGV[8]) * tonumber(ARGV[9])))
-- Per entry and group: two groups may retry the same entry at once.
local member = id .. '/' .. group
redis.call('ZADD', KEYS[2], now + delay, member)
redis.call('HSET', KEYS[3], member,
  cjson.encode({d = fields['d'] or '', n = attempts, e = lastError, g = group, o = original, h = throttles}))
if throttled then return {'throttled', attempts, delay} end
return {'retry', attempts, delay}
