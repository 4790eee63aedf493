-- announce: a function included by the scripts that publish invalidations (not a script of its own)
-- announce(classic, shard, message): publishes an invalidation on `shard`, a shard channel whose slot
-- this node serves (SPUBLISH goes straight to the node's subscribers instead of over the cluster bus),
-- and falls back to the classic channel when there is none (''), when SPUBLISH is refused (Redis < 7,
-- a stale slot map: the channel's slot is not served here) or when nobody hears it there.
local function announce(classic, shard, message)
  if shard ~= '' then
    local receivers = redis.pcall('SPUBLISH', shard, message)
    if type(receivers) == 'number' and receivers > 0 then return end
  end
  redis.call('PUBLISH', classic, message)
end
