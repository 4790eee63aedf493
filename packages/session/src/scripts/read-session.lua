-- read-session: reads a live session, optionally renewing its idle expiry (touch)
-- KEYS[1] session hash: _u user, _c created (ms), _a absolute deadline (ms), _v version, d:<field> JSON
-- ARGV[1] idle ttl in ms to renew the expiry with, or 0 to leave it
-- Reply: nil when missing or past its absolute deadline; else {pttl, field, value, ...}
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return nil end
local deadline
for i = 1, #fields, 2 do
  if fields[i] == '_a' then deadline = tonumber(fields[i + 1]) end
end
if deadline == nil or now >= deadline then
  redis.call('DEL', KEYS[1])
  return nil
end
local pttl
local idle = tonumber(ARGV[1])
if idle > 0 then
  pttl = math.min(idle, deadline - now)
  redis.call('PEXPIRE', KEYS[1], pttl)
else
  pttl = redis.call('PTTL', KEYS[1])
end
table.insert(fields, 1, pttl)
return fields
