-- union-prelude: builds a combined board before a read of it, in the same call. Included right after
--   the header of every read script (read-range, read-member, count-members), which share these KEYS and ARGV.
--   When KEYS[5...] are given, KEYS[1] is a combined board of them: built with ZUNIONSTORE when it does not
--   exist, checked against the precision budget, and kept for ARGV[2] ms (registered in KEYS[4] so that
--   remove and reset find it). With ARGV[3] = 1 its distinct-score index (KEYS[2]) is built too, one level
--   at a time from the top.
-- KEYS[1] board (sorted set: member → composite score); a combined board when KEYS[5...] are given
-- KEYS[2] the board's distinct-score index (sorted set: level → level)
-- KEYS[4] registry of period and combined boards (sorted set: key → expiry in ms)
-- KEYS[5...] boards to combine into KEYS[1] when it does not exist
-- ARGV[1] SUM | MAX: how a combined board aggregates
-- ARGV[2] ms to keep a combined board
-- ARGV[3] 1 when the board keeps a distinct-score index
-- ARGV[4] slot: composite = level * slot + tie
-- Reply (only when the combined totals are beyond 2^53): an error starting with E_SCORE_RANGE.

if #KEYS > 4 and redis.call('EXISTS', KEYS[1]) == 0 then
  local union_slot = tonumber(ARGV[4])
  -- ZUNIONSTORE destination numkeys key … AGGREGATE SUM|MAX (unpack must come last in a call).
  local arguments = { KEYS[1], #KEYS - 4 }
  for index = 5, #KEYS do arguments[#arguments + 1] = KEYS[index] end
  arguments[#arguments + 1] = 'AGGREGATE'
  arguments[#arguments + 1] = ARGV[1]
  local size = redis.call('ZUNIONSTORE', unpack(arguments))
  if size > 0 then
    local top = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
    local bottom = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
    -- 2^53: beyond it a double skips integers, so a total would have lost precision.
    if top >= 9007199254740992 or bottom <= -9007199254740992 then
      redis.call('DEL', KEYS[1])
      return redis.error_reply('E_SCORE_RANGE ' .. string.format('%.0f', top >= 9007199254740992 and top or bottom))
    end
    if ARGV[3] == '1' then
      redis.call('DEL', KEYS[2])
      local level = math.floor(top / union_slot)
      while level do
        redis.call('ZADD', KEYS[2], string.format('%.0f', level), string.format('%.0f', level))
        local below = redis.call(
          'ZRANGE', KEYS[1], '(' .. string.format('%.0f', level * union_slot), '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
        level = below[2] and math.floor(tonumber(below[2]) / union_slot)
      end
      redis.call('PEXPIRE', KEYS[2], ARGV[2])
    end
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    local time = redis.call('TIME')
    local expire_at = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[2])
    redis.call('ZADD', KEYS[4], string.format('%.0f', expire_at), KEYS[1])
    if redis.call('PEXPIRETIME', KEYS[4]) < expire_at then redis.call('PEXPIREAT', KEYS[4], string.format('%.0f', expire_at)) end
  end
end
