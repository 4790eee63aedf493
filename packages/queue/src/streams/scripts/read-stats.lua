-- read-stats: the state of a stream and its groups, read at one instant
-- KEYS[1] stream
-- KEYS[2] delayed sorted set of retries
-- KEYS[3] dead-letter stream
-- ARGV[1] most pending entries sampled per group for the delivery-count distribution
-- Reply: {now ms, length, delayed, dead, {{name, pending, lag (-1 unknown), oldest pending id or '', {deliveries, count, ...}, consumers}...}}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local length = redis.call('XLEN', KEYS[1])
local delayed = redis.call('ZCARD', KEYS[2])
local dead = redis.call('XLEN', KEYS[3])
local groups = {}
if redis.call('EXISTS', KEYS[1]) == 1 then
  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local fields = {}
    for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
    local lag = fields['lag']
    if type(lag) ~= 'number' then lag = -1 end
    local oldest = ''
    local histogram = {}
    if tonumber(fields['pending']) > 0 then
      local counts = {}
      local sample = redis.call('XPENDING', KEYS[1], fields['name'], '-', '+', tonumber(ARGV[1]))
      if #sample > 0 then oldest = sample[1][1] end
      for _, entry in ipairs(sample) do
        local deliveries = entry[4]
        counts[deliveries] = (counts[deliveries] or 0) + 1
      end
      for deliveries, count in pairs(counts) do
        histogram[#histogram + 1] = deliveries
        histogram[#histogram + 1] = count
      end
    end
    groups[#groups + 1] = {fields['name'], fields['pending'], lag, oldest, histogram, fields['consumers']}
  end
end
return {now, length, delayed, dead, groups}
