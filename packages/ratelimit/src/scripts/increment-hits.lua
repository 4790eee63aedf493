-- increment-hits: counts one hit of an express-rate-limit client in its window (the window starts at its first hit)
-- KEYS[1] hit counter of the client
-- ARGV[1] window length in ms
-- Reply: {hits in the window (this one included), ms until the window ends}

-- The window is the key's expiry, which Redis measures on its own clock: no
-- client clock decides when a window ends.
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return { 1, tonumber(ARGV[1]) }
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A counter without expiry (written by something else) would never reset: start its window now.
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { hits, ttl }
