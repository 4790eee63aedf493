-- extend-lock: resets the ttl of every lock, only if each still holds the token
-- KEYS[1...] one lock key per resource
-- ARGV[1] token of the holder
-- ARGV[2] new ttl in ms
-- Reply: 1 extended, 0 expired (a lock is gone), -1 taken (another token holds a lock)

local token = ARGV[1]
-- One read for every lock, however many.
local holders = redis.call('MGET', unpack(KEYS))
for index = 1, #KEYS do
  local holder = holders[index]
  if holder ~= token then
    if holder then return -1 end
    return 0
  end
end
for index = 1, #KEYS do redis.call('PEXPIRE', KEYS[index], ARGV[2]) end
return 1
