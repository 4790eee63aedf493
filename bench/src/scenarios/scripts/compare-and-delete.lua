-- compare-and-delete: releases a lock only for the holder that set it (the minimal baseline)
-- KEYS[1] lock key (set with SET key token NX PX ttl)
-- ARGV[1] token of the holder
-- Reply: 1 deleted, 0 the key is gone or holds another token (left alone)
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
