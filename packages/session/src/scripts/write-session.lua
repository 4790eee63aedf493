-- write-session: creates or updates a session's fields, atomically and with versions
-- KEYS[1] session hash: _u user, _c created (ms), _a absolute deadline (ms), _v version, d:<field> JSON
-- KEYS[2] tombstone of the session id (set when it was destroyed: a destroyed id is never written again)
-- ARGV[1] mode: c = create (the id must be new), u = update (the session must exist), p = put (either)
-- ARGV[2] user: k = keep the stored one, n = none, s = set to ARGV[3]
-- ARGV[3] user id (with ARGV[2] = s)
-- ARGV[4] 1 when the user's index already lists this id (needed to give a session a new user)
-- ARGV[5] absolute deadline in ms of a new session (from index-session), or 0 for now + ARGV[6]
-- ARGV[6] absolute ttl in ms
-- ARGV[7] idle ttl in ms
-- ARGV[8] expected version, or '' for any
-- ARGV[9] 1 = replace: delete the data fields this write does not set
-- ARGV[10] n, the number of fields set; then n pairs of field, JSON; the rest are fields deleted
-- Reply: {status, version, created, deadline, pttl}; status 1 = written, 0 = missing,
--   2 = version conflict, 3 = destroyed, 4 = index first (deadline to index with), 5 = id exists
local session, tombstone = KEYS[1], KEYS[2]
local mode, userMode, user = ARGV[1], ARGV[2], ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local stored = redis.call('HMGET', session, '_u', '_c', '_a', '_v')
if stored[3] and now >= tonumber(stored[3]) then
  -- Past its absolute deadline: gone, whatever its idle expiry says.
  redis.call('DEL', session)
  stored = {false, false, false, false}
end
local exists = stored[3] ~= false

local created, deadline
if exists then
  if mode == 'c' then return {5, 0, 0, 0, 0} end
  created, deadline = tonumber(stored[2]), tonumber(stored[3])
  if ARGV[8] ~= '' and tonumber(ARGV[8]) ~= tonumber(stored[4]) then
    return {2, tonumber(stored[4]), created, deadline, 0}
  end
  if userMode == 's' and user ~= stored[1] and ARGV[4] ~= '1' then
    return {4, 0, created, deadline, 0}
  end
else
  -- The tombstone first: an update of a destroyed session (a request that read it before a logout)
  -- is refused as destroyed, not reported as merely missing.
  if redis.call('EXISTS', tombstone) == 1 then return {3, 0, 0, 0, 0} end
  if mode == 'u' then return {0, 0, 0, 0, 0} end
  created = now
  deadline = tonumber(ARGV[5])
  if deadline == 0 then deadline = now + tonumber(ARGV[6]) end
  if userMode == 's' and ARGV[4] ~= '1' then
    return {4, 0, created, 0, 0}
  end
end

-- One HSET for everything: the new version (read above, so no HINCRBY), a new session's
-- metadata, the user and the data fields.
local version = (tonumber(stored[4]) or 0) + 1
local setArgs = {'_v', string.format('%d', version)}
if not exists then
  setArgs[3], setArgs[4], setArgs[5], setArgs[6] = '_c', string.format('%d', created), '_a', string.format('%d', deadline)
  if userMode == 'k' then setArgs[7], setArgs[8] = '_u', '' end
end
local count = tonumber(ARGV[10])
local setFields = {}
for i = 11, 10 + 2 * count, 2 do
  setArgs[#setArgs + 1] = ARGV[i]
  setArgs[#setArgs + 1] = ARGV[i + 1]
  setFields[ARGV[i]] = true
end
if userMode == 's' then
  setArgs[#setArgs + 1] = '_u'
  setArgs[#setArgs + 1] = user
elseif userMode == 'n' then
  setArgs[#setArgs + 1] = '_u'
  setArgs[#setArgs + 1] = ''
end
redis.call('HSET', session, unpack(setArgs))

local deleted = {}
for i = 11 + 2 * count, #ARGV do deleted[#deleted + 1] = ARGV[i] end
if ARGV[9] == '1' and exists then
  for _, field in ipairs(redis.call('HKEYS', session)) do
    if string.sub(field, 1, 2) == 'd:' and not setFields[field] then deleted[#deleted + 1] = field end
  end
end
if #deleted > 0 then redis.call('HDEL', session, unpack(deleted)) end

local pttl = math.min(tonumber(ARGV[7]), deadline - now)
redis.call('PEXPIRE', session, pttl)
return {1, version, created, deadline, pttl}
