-- entry-format: functions included by the scripts that write entries (not a script of its own)
-- The one Lua home of the entry format, `version|flags|freshUntil|staleUntil|loadMs|tags|payload`
-- (entry.ts is the TypeScript one):
-- entryVersion(head): the version at the head of a stored value (the first 25 bytes or more), 0 when none;
-- encodeEntry(version, flags, freshUntil, staleUntil, loadMs, tags, payload): the stored string;
-- tombstone(version): what a delete leaves.
local function entryVersion(head)
  return tonumber(string.match(head, '^(%d+)|')) or 0
end
local function encodeEntry(version, flags, freshUntil, staleUntil, loadMs, tags, payload)
  return string.format('%d', version) .. '|' .. flags .. '|' .. string.format('%d', freshUntil) .. '|' ..
    string.format('%d', staleUntil) .. '|' .. loadMs .. '|' .. tags .. '|' .. payload
end
local function tombstone(version)
  return encodeEntry(version, 'd', 0, 0, '0', '', '')
end
