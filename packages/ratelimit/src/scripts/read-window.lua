-- read-window: reads a @fastify/rate-limit client's hits and window without counting one
-- KEYS[1] hit counter of the client
-- Reply: {hits in the window, ms until the window ends}; {0, 0} when no window is running
local hits = redis.call('GET', KEYS[1])
if not hits then
  return { 0, 0 }
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = 0
end
return { tonumber(hits), ttl }
