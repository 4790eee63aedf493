-- release-leases: gives back the concurrency slots a request holds
-- KEYS[1...] one lease set per concurrency policy
-- ARGV[1] request id the leases were taken with
-- ARGV[2] units the request took
-- Reply: the number of lease entries removed (0 when they had expired or were released already)

local removed = 0
for index = 1, #KEYS do
  for unit = 1, tonumber(ARGV[2]) do
    removed = removed + redis.call('ZREM', KEYS[index], ARGV[1] .. ':' .. unit)
  end
end
return removed
