-- claim-stuck: takes over entries pending longer than the visibility timeout (XAUTOCLAIM counts a delivery); entries past max deliveries go to the dead letters
-- KEYS[1] stream
-- KEYS[2] dead-letter stream
-- ARGV[1] group
-- ARGV[2] consumer that takes them
-- ARGV[3] visibility timeout in ms (minimum idle time)
-- ARGV[4] most entries to claim
-- ARGV[5] max deliveries
-- ARGV[6] cursor: where the previous scan of the pending list stopped ('0-0' to start over)
-- Reply: {next cursor, {{id, fields, attempts}...}}: the claimed entries for the caller to process
local group, consumer = ARGV[1], ARGV[2]
local maxDeliveries = tonumber(ARGV[5])
local reply = redis.call('XAUTOCLAIM', KEYS[1], group, consumer, ARGV[3], ARGV[6], 'COUNT', ARGV[4])
local claimed = {}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
for _, entry in ipairs(reply[2]) do
  local id, raw = entry[1], entry[2]
  local pending = redis.call('XPENDING', KEYS[1], group, id, id, 1)
  local deliveries = 1
  if #pending > 0 then deliveries = tonumber(pending[1][4]) end
  local fields = {}
  for i = 1, #raw, 2 do fields[raw[i]] = raw[i + 1] end
  local attempts = tonumber(fields['n'] or '0') + deliveries
  if attempts > maxDeliveries then
    -- The earlier deliveries ran out of time (a crash or a hang each time): not retried again.
    redis.call('XADD', KEYS[2], '*', 'd', fields['d'] or '', 'n', attempts - 1,
      'e', 'not acknowledged within the visibility timeout', 'r', 'max-deliveries', 'g', group, 'o', fields['o'] or id, 't', now)
    redis.call('XACK', KEYS[1], group, id)
  else
    claimed[#claimed + 1] = {id, raw, attempts}
  end
end
return {reply[1], claimed}
