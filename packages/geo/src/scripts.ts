import { defineScript } from '@redkit/core';
import evictStaleSource from './scripts/evict-stale.lua';
import measureDistanceSource from './scripts/measure-distance.lua';
import readMemberSource from './scripts/read-member.lua';
import readSnapshotSource from './scripts/read-snapshot.lua';
import removeMemberSource from './scripts/remove-member.lua';
import searchMembersSource from './scripts/search-members.lua';
import storeSnapshotSource from './scripts/store-snapshot.lua';
import upsertMemberSource from './scripts/upsert-member.lua';

export const upsertMember = defineScript<[number, number, number]>('upsert-member', upsertMemberSource);
export const removeMember = defineScript<number>('remove-member', removeMemberSource);
export const readMember = defineScript<[string, string, string | null, string | null] | null>(
  'read-member',
  readMemberSource,
);
export const measureDistance = defineScript<string | null>('measure-distance', measureDistanceSource);
export const evictStale = defineScript<number>('evict-stale', evictStaleSource);
export const searchMembers = defineScript<(string | number | null)[]>('search-members', searchMembersSource);
export const storeSnapshot = defineScript<number[]>('store-snapshot', storeSnapshotSource);
export const readSnapshot = defineScript<(string | number | null)[]>('read-snapshot', readSnapshotSource);
