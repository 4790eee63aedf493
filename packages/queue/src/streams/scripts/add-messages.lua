-- add-messages: appends messages in order, each with an idempotency key added only once (addMany with keys)
-- KEYS[1] stream
-- KEYS[2...] dedupe keys of the messages that have an idempotency key (string: the id of the first add)
-- ARGV[1] how long an idempotency key is remembered, in ms
-- ARGV[2 + 3i], ARGV[3 + 3i], ARGV[4 + 3i] for message i: data (JSON), index of its dedupe key in KEYS (0: none), idempotency key ('' for none)
-- Reply: {added (0|1), id, added, id, ...} in the order of the messages; for a key seen before (also earlier in this call), 0 and the first add's id
local ttl = ARGV[1]
local reply = {}
for i = 2, #ARGV, 3 do
  local data, keyIndex, key = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  if keyIndex == 0 then
    reply[#reply + 1] = 1
    reply[#reply + 1] = redis.call('XADD', KEYS[1], '*', 'd', data)
  else
    local first = redis.call('GET', KEYS[keyIndex])
    if first then
      reply[#reply + 1] = 0
      reply[#reply + 1] = first
    else
      local id = redis.call('XADD', KEYS[1], '*', 'd', data, 'k', key)
      redis.call('SET', KEYS[keyIndex], id, 'NX', 'PX', ttl)
      reply[#reply + 1] = 1
      reply[#reply + 1] = id
    end
  end
end
return reply
