-- release-lock: deletes the locks that still hold the token and wakes waiters
-- KEYS[1] waiters flag of the resources' hash tag
-- KEYS[2...] one lock key per resource
-- ARGV[1] token of the holder
-- ARGV[2] wake-up channel
-- ARGV[3] wake-up message (the released resources' ids), published only when someone waits
-- Reply: 1 released (every lock held the token), 0 expired (no lock holds any token),
--   -1 taken (another token holds at least one lock; those are left alone)
--
-- One MGET reads every holder and the waiters flag (one command instead of a
-- GET per lock and an EXISTS), and one DEL deletes the locks that held the token.

local token = ARGV[1]
local values = redis.call('MGET', unpack(KEYS))

if #KEYS == 2 then
  local holder = values[2]
  if holder ~= token then
    if holder then return -1 end
    return 0
  end
  redis.call('DEL', KEYS[2])
  if values[1] then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
  return 1
end

local status = 1
local held = {}
for index = 2, #KEYS do
  local holder = values[index]
  if holder == token then
    held[#held + 1] = KEYS[index]
  elseif holder then
    status = -1
  elseif status == 1 then
    status = 0
  end
end
if #held > 0 then
  redis.call('DEL', unpack(held))
  if values[1] then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
end
return status
