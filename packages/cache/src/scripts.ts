import { defineScript } from '@redkit/core';
import announceSource from './scripts/announce.lua';
import beginLoadSource from './scripts/begin-load.lua';
import bumpTagSource from './scripts/bump-tag.lua';
import deleteEntrySource from './scripts/delete-entry.lua';
import entryFormatSource from './scripts/entry-format.lua';
import releaseLeaseSource from './scripts/release-lease.lua';
import setEntrySource from './scripts/set-entry.lua';
import writeBehindEntrySource from './scripts/write-behind-entry.lua';

/**
 * Includes shared Lua fragments in a script, right after the script's header
 * comment (which must stay first: defineScript reads the contract from it).
 */
function including(fragments: readonly string[], source: string): string {
  const lines = source.split('\n');
  const body = lines.findIndex((line) => line.trim() !== '' && !line.trim().startsWith('--'));
  return [...lines.slice(0, body), ...fragments.map((fragment) => fragment.trimEnd()), ...lines.slice(body)].join('\n');
}

/** The fragments of a script that writes entries and announces them. */
const entryWriter = [entryFormatSource, announceSource];

/** `{entry or null, lease taken (1|0), start stamp µs}` */
export type BeginLoadReply = [string | null, number, string];

/** `{1, version, freshUntil}` when written, `{0, newer version}` when refused. */
export const setEntry = defineScript<[number, number, number?]>('set-entry', including(entryWriter, setEntrySource));
/** `{deleted (1|0), tombstone version}` */
export const deleteEntry = defineScript<[number, string]>('delete-entry', including(entryWriter, deleteEntrySource));
export const beginLoad = defineScript<BeginLoadReply>('begin-load', beginLoadSource);
export const releaseLease = defineScript<number>('release-lease', releaseLeaseSource);
export const bumpTag = defineScript<string>('bump-tag', including([announceSource], bumpTagSource));
/** The write's version. */
export const writeBehindEntry = defineScript<number>(
  'write-behind-entry',
  including(entryWriter, writeBehindEntrySource),
);
