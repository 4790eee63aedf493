-- increment-window: counts one hit of a client in its fixed window, which starts at its first hit (the express-rate-limit and @fastify/rate-limit stores)
-- KEYS[1] hit counter of the client
-- ARGV[1] window length in ms (a whole number)
-- ARGV[2] max: hits admitted in a window; read only when ARGV[3] is 1 or 2
-- ARGV[3] what a hit over max does: absent or 0 nothing, 1 restarts the window (continueExceeding), 2 doubles it per extra hit (exponentialBackoff)
-- Reply: {hits in the window (this one included), ms until the window ends}

-- The window is the key's expiry, which Redis measures on its own clock: no
-- client clock decides when a window ends. ARGV[1] goes to PEXPIRE as sent;
-- it is converted only where a reply needs it as a number, so the common
-- path (a hit inside a running window) is INCR and PTTL and nothing else.
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return { 1, tonumber(ARGV[1]) }
end

local mode = ARGV[3]
if (mode == '1' or mode == '2') and hits > tonumber(ARGV[2]) then
  if mode == '1' then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    return { hits, tonumber(ARGV[1]) }
  end
  -- window * 2^(hits over max - 1), capped where a JavaScript number stays exact.
  local ttl = math.min(tonumber(ARGV[1]) * 2 ^ (hits - tonumber(ARGV[2]) - 1), 9007199254740991)
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))
  return { hits, ttl }
end

local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A counter without expiry (written by something else) would never reset: start its window now.
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { hits, ttl }
