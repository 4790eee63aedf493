-- index-session: lists a session in its user's index, before the session is written
-- (so a session that exists is always found by list() and destroyAll())
-- KEYS[1] user index: sorted set of session ids scored by absolute deadline (ms)
-- ARGV[1] session id
-- ARGV[2] absolute deadline in ms, or 0 for now + ARGV[3]
-- ARGV[3] absolute ttl in ms
-- ARGV[4] grace in ms: entries whose deadline passed longer ago are pruned
-- Reply: the deadline recorded (ms since the epoch, Redis server clock)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local grace = tonumber(ARGV[4])
local deadline = tonumber(ARGV[2])
if deadline == 0 then
  deadline = now + tonumber(ARGV[3])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - grace))
-- GT: a deadline recorded earlier for this id is never lowered.
redis.call('ZADD', KEYS[1], 'GT', string.format('%d', deadline), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
-- The index lives as long as its longest-lived session can.
redis.call('PEXPIREAT', KEYS[1], string.format('%d', tonumber(last[2]) + grace))
return deadline
