-- increment-window: counts one hit of a @fastify/rate-limit client in its window (the window starts at its first hit)
-- KEYS[1] hit counter of the client
-- ARGV[1] window length in ms
-- ARGV[2] max: hits admitted in a window
-- ARGV[3] what a hit over max does: 0 nothing, 1 restarts the window (continueExceeding), 2 doubles it per extra hit (exponentialBackoff)
-- Reply: {hits in the window (this one included), ms until the window ends}

-- The window is the key's expiry, which Redis measures on its own clock.
local window = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local mode = ARGV[3]
local hits = redis.call('INCR', KEYS[1])

if hits == 1 or (mode == '1' and hits > max) then
  redis.call('PEXPIRE', KEYS[1], window)
  return { hits, window }
end
if mode == '2' and hits > max then
  -- window * 2^(hits over max - 1), capped where a JavaScript number stays exact.
  local ttl = math.min(window * 2 ^ (hits - max - 1), 9007199254740991)
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))
  return { hits, ttl }
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A counter without expiry (written by something else) would never reset: start its window now.
  redis.call('PEXPIRE', KEYS[1], window)
  ttl = window
end
return { hits, ttl }
