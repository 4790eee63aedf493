import { defineScript } from '@redkit/core';
import beginLoadSource from './scripts/begin-load.lua';
import bumpTagSource from './scripts/bump-tag.lua';
import deleteEntrySource from './scripts/delete-entry.lua';
import releaseLeaseSource from './scripts/release-lease.lua';
import setEntrySource from './scripts/set-entry.lua';
import writeBehindEntrySource from './scripts/write-behind-entry.lua';

/** `{entry or null, lease taken (1|0), start stamp µs}` */
export type BeginLoadReply = [string | null, number, string];

/** `{1, version, freshUntil}` when written, `{0, newer version}` when refused. */
export const setEntry = defineScript<[number, number, number?]>('set-entry', setEntrySource);
/** `{deleted (1|0), tombstone version}` */
export const deleteEntry = defineScript<[number, string]>('delete-entry', deleteEntrySource);
export const beginLoad = defineScript<BeginLoadReply>('begin-load', beginLoadSource);
export const releaseLease = defineScript<number>('release-lease', releaseLeaseSource);
export const bumpTag = defineScript<string>('bump-tag', bumpTagSource);
/** The write's version. */
export const writeBehindEntry = defineScript<number>('write-behind-entry', writeBehindEntrySource);
