-- fencing-token: next_fencing_token(time) issues the next fencing token of a hash tag. Included by
--   acquire-lock, acquire-permit, acquire-read-lock and acquire-write-lock, which return it once they hold
-- KEYS[1] fencing counter of the hash tag (string, never expires)

-- The token is the larger of the last one + 1 and the server clock in µs
-- (time: the reply of redis.call('TIME')). The counter alone makes it
-- strictly increasing on one server; the clock keeps it increasing after a
-- failover that lost the counter's last writes (the promoted replica's clock
-- has moved on by more than the failover took). SET … GET writes the clock
-- value and reads the last one in one command; only when the clock has not
-- passed it is the token written again.
local function next_fencing_token(time)
  local fence = time[1] * 1000000 + time[2]
  local last = tonumber(redis.call('SET', KEYS[1], string.format('%.0f', fence), 'GET'))
  if last and last >= fence then
    fence = last + 1
    redis.call('SET', KEYS[1], string.format('%.0f', fence))
  end
  return fence
end
