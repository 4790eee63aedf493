-- destroy-sessions: deletes sessions and leaves a tombstone for each id, so that a
-- write still in flight (a request that loaded the session earlier) cannot bring it back
-- KEYS[1...] pairs of session hash, tombstone (all in one slot)
-- ARGV[1] tombstone ttl in ms
-- Reply: for each session, its user id ('' when it had none), or false when it did not exist
local users = {}
for i = 1, #KEYS, 2 do
  local user = redis.call('HGET', KEYS[i], '_u')
  if user then
    redis.call('DEL', KEYS[i])
  end
  users[#users + 1] = user
  redis.call('SET', KEYS[i + 1], '1', 'PX', ARGV[1])
end
return users
