-- destroy-sessions: deletes sessions and leaves a tombstone for each id, so that a
-- write still in flight (a request that loaded the session earlier) cannot bring it back
-- KEYS[1...] pairs of session hash, tombstone (all in one slot)
-- ARGV[1] longest tombstone ttl in ms (the idle timeout: no session outlives it unused)
-- ARGV[2] shortest tombstone ttl in ms (outlives any request or create still in flight)
-- Reply: for each session, its user id ('' when it had none), or false when it did not exist
-- A tombstone lives as long as the session could still have lived (its remaining time to
-- live), within those bounds: past that, a late write would find it expired anyway, and a
-- store whose sessions live for months leaves no months-long tombstones.
local longest, shortest = tonumber(ARGV[1]), tonumber(ARGV[2])
local users = {}
for i = 1, #KEYS, 2 do
  local user = redis.call('HGET', KEYS[i], '_u')
  local keep = shortest
  if user then
    keep = math.max(redis.call('PTTL', KEYS[i]), shortest)
    redis.call('DEL', KEYS[i])
  end
  users[#users + 1] = user
  redis.call('SET', KEYS[i + 1], '1', 'PX', math.min(keep, longest))
end
return users
