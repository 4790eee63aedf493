-- submit-score: applies one score update (best, increment or replace) to every board of a leaderboard at once
-- (one script per leaderboard configuration: submit-script.ts writes the configuration line below)
-- KEYS[1] encoding marker (string: the score encoding the boards were written with)
-- KEYS[2] metadata (hash: member → JSON)
-- KEYS[3] registry of period and combined boards (sorted set: key → expiry in ms)
-- KEYS[4...] the boards (sorted sets: member → composite score), each followed by its
--   distinct-score index (sorted set: level → level) when the configuration keeps one
-- ARGV[1] member
-- ARGV[2] policy: b (keep the higher level) | i (add ARGV[3] to the level) | r (set the level)
-- ARGV[3] level: the score in units, negated on ascending boards (for i: the increment)
-- ARGV[4] metadata JSON to store, or empty
-- ARGV[5], ARGV[6] the instants [from, to) in ms that the boards' periods share, checked against
--   TIME (empty: no check)
-- ARGV[7] when the metadata hash may expire (ms; empty: never)
-- ARGV[8...] per board: expire at (ms; 0: never), then 1 to record the board in the registry
-- Reply: one string of space-separated fields:
--   "K" then per board: level, rank, changed (0|1), previous level ("-" when new to the board);
--   "T <server ms>" when the server's clock is outside [from, to);
--   "E <fingerprint>" when the boards were written with another encoding;
--   "R <board number> <level>" when the new level would exceed the largest level.
--   Only "K" writes anything.

-- Configuration: encoding fingerprint, largest |level|, slot (composite = level * slot + tie), tie
-- range (tie values 0 … range - 1), whether the first member to reach a level ranks first among
-- equals (else the last), whether boards keep a distinct-score index, and the rank style of the
-- reply (o ordinal, c competition, d dense). The values here are the defaults.
local fingerprint, max_level, slot, range, first, dense, style = 'lb1 desc 0 31', 2147483647, 4194304, 131072, true, false, 'o'

local member = ARGV[1]
local policy = ARGV[2]
local value = tonumber(ARGV[3])
local step = dense and 2 or 1

-- Composites reach 2^53: Lua's own number-to-string conversion keeps only 14 digits.
local function fmt(number)
  return string.format('%.0f', number)
end

local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

if ARGV[5] ~= '' then
  local now = now_ms()
  if now < tonumber(ARGV[5]) or now >= tonumber(ARGV[6]) then return 'T ' .. fmt(now) end
end

local stored = redis.call('GET', KEYS[1])
if stored and stored ~= fingerprint then return 'E ' .. stored end

-- Every board's new level first, so that one out of range writes nothing anywhere.
local boards = (#KEYS - 3) / step
local previous, levels = {}, {}
for b = 1, boards do
  local composite = redis.call('ZSCORE', KEYS[4 + (b - 1) * step], member)
  local old = composite and math.floor(tonumber(composite) / slot)
  local new
  if policy == 'i' then
    new = (old or 0) + value
  elseif policy == 'b' and old and old > value then
    new = old
  else
    new = value
  end
  if math.abs(new) > max_level then return 'R ' .. b .. ' ' .. fmt(new) end
  previous[b] = old
  levels[b] = new
end
if not stored then redis.call('SET', KEYS[1], fingerprint) end

-- The tie value of a member arriving at a level: the next one in arrival order. When the values
-- run out, the level is renumbered (order kept) if at most half of the range is in use; otherwise
-- the arrival shares the last value, and members sharing it are ordered by name.
local function tie_for(board, level)
  local low = level * slot
  local high = low + range - 1
  if first then
    local lowest = redis.call('ZRANGE', board, fmt(low), fmt(high), 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
    if not lowest[2] then return range - 1 end
    local tie = tonumber(lowest[2]) - low - 1
    if tie >= 0 then return tie end
  else
    local highest = redis.call('ZRANGE', board, fmt(high), fmt(low), 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
    if not highest[2] then return 0 end
    local tie = tonumber(highest[2]) - low + 1
    if tie < range then return tie end
  end
  if redis.call('ZCOUNT', board, fmt(low), fmt(high)) * 2 > range then return first and 0 or range - 1 end
  local members = redis.call('ZRANGE', board, fmt(high), fmt(low), 'BYSCORE', 'REV')
  local batch = {}
  for index, name in ipairs(members) do
    local tie = first and (range - index) or (#members - index)
    batch[#batch + 1] = fmt(low + tie)
    batch[#batch + 1] = name
    if #batch >= 1000 then
      redis.call('ZADD', board, unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then redis.call('ZADD', board, unpack(batch)) end
  return first and (range - #members - 1) or #members
end

local function register(board, expire_at)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. fmt(now_ms()))
  redis.call('ZADD', KEYS[3], expire_at, board)
  if redis.call('PEXPIRETIME', KEYS[3]) < tonumber(expire_at) then redis.call('PEXPIREAT', KEYS[3], expire_at) end
end

local reply = { 'K' }
for b = 1, boards do
  local position = 4 + (b - 1) * step
  local board = KEYS[position]
  local level, old = levels[b], previous[b]
  local changed = not old or old ~= level
  if changed then
    redis.call('ZADD', board, fmt(level * slot + tie_for(board, level)), member)
    if dense then
      if old and redis.call('ZCOUNT', board, fmt(old * slot), fmt(old * slot + slot - 1)) == 0 then
        redis.call('ZREM', KEYS[position + 1], fmt(old))
      end
      redis.call('ZADD', KEYS[position + 1], fmt(level), fmt(level))
    end
  end
  -- Ranked before the expiry is set: a board of a period past its retention expires at once.
  local rank
  if style == 'o' then
    rank = redis.call('ZREVRANK', board, member) + 1
  elseif style == 'c' then
    rank = redis.call('ZCOUNT', board, fmt((level + 1) * slot), '+inf') + 1
  else
    rank = redis.call('ZCOUNT', KEYS[position + 1], '(' .. fmt(level), '+inf') + 1
  end
  local argument = 8 + (b - 1) * 2
  if ARGV[argument] ~= '0' then
    redis.call('PEXPIREAT', board, ARGV[argument])
    if dense then redis.call('PEXPIREAT', KEYS[position + 1], ARGV[argument]) end
    if ARGV[argument + 1] == '1' then register(board, ARGV[argument]) end
  end
  reply[#reply + 1] = fmt(level)
  reply[#reply + 1] = rank
  reply[#reply + 1] = changed and '1' or '0'
  reply[#reply + 1] = old and fmt(old) or '-'
end

if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], member, ARGV[4])
  if ARGV[7] ~= '' and redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[7]) then
    redis.call('PEXPIREAT', KEYS[2], ARGV[7])
  end
end
return table.concat(reply, ' ')
