import { defineScript, type LuaScript } from '@redkit/core';
import countMembersSource from './scripts/count-members.lua';
import readMemberSource from './scripts/read-member.lua';
import readRangeSource from './scripts/read-range.lua';
import removeMemberSource from './scripts/remove-member.lua';
import scanBoardSource from './scripts/scan-board.lua';
import submitScoreSource from './scripts/submit-score.lua';
import trimBoardSource from './scripts/trim-board.lua';

/** What a leaderboard writes into its submit-score script (see the configuration line of submit-score.lua). */
export interface SubmitConfig {
  readonly fingerprint: string;
  readonly maxLevel: number;
  readonly slot: number;
  readonly tieRange: number;
  readonly firstWins: boolean;
  readonly dense: boolean;
  /** `o`, `c` or `d`. */
  readonly style: string;
}

const configLine = /^local fingerprint, max_level, slot, range, first, dense, style = .*$/m;
const submitScripts = new Map<string, LuaScript<string>>();

/**
 * The submit-score script of one leaderboard configuration, with its settings
 * written in: each call then sends only what changes (member, policy, level,
 * metadata, the period boards' expiry). Leaderboards configured alike share it.
 */
export function submitScoreScript(config: SubmitConfig): LuaScript<string> {
  const values = [
    `'${config.fingerprint}'`,
    config.maxLevel,
    config.slot,
    config.tieRange,
    config.firstWins,
    config.dense,
    `'${config.style}'`,
  ];
  const source = submitScoreSource.replace(
    configLine,
    `local fingerprint, max_level, slot, range, first, dense, style = ${values.join(', ')}`,
  );
  let script = submitScripts.get(source);
  if (!script) {
    script = defineScript<string>('submit-score', source);
    submitScripts.set(source, script);
  }
  return script;
}
// The read scripts build a combined board first: each includes union-prelude.lua right after its header.
export const readRange = defineScript<(string | number | null)[]>('read-range', readRangeSource);
export const readMember = defineScript<(string | number | null)[]>('read-member', readMemberSource);
export const countMembers = defineScript<number>('count-members', countMembersSource);
export const scanBoard = defineScript<(string | null)[]>('scan-board', scanBoardSource);
export const removeMember = defineScript<number>('remove-member', removeMemberSource);
export const trimBoard = defineScript<number>('trim-board', trimBoardSource);
