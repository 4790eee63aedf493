-- release-lease: gives up a key's load lease after a failed load, if this caller still holds it
-- KEYS[1] load lease of the key
-- ARGV[1] lease token
-- Reply: 1 when released, 0 when the lease had already expired or passed to another caller
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
