import { defineScript } from '@redkit/core';
import addMessageSource from './scripts/add-message.lua';
import addMessagesSource from './scripts/add-messages.lua';
import claimStuckSource from './scripts/claim-stuck.lua';
import extendClaimsSource from './scripts/extend-claims.lua';
import failMessageSource from './scripts/fail-message.lua';
import promoteDueSource from './scripts/promote-due.lua';
import purgeDeadSource from './scripts/purge-dead.lua';
import readStatsSource from './scripts/read-stats.lua';
import replayDeadSource from './scripts/replay-dead.lua';
import retireConsumerSource from './scripts/retire-consumer.lua';
import trimStreamSource from './scripts/trim-stream.lua';

/** Raw stream fields as the server sends them: `[field, value, field, value, …]`. */
export type RawFields = string[];

/** `{added (0|1), id}` */
export const addMessage = defineScript<[number, string]>('add-message', addMessageSource);
/** `{added (0|1), id, added, id, …}` */
export const addMessages = defineScript<(number | string)[]>('add-messages', addMessagesSource);
/** `{status, attempts, delay ms | dead-letter id}` */
export const failMessage = defineScript<[string, number, number | string]>('fail-message', failMessageSource);
/** `{moved, ms until the next due retry or -1}` */
export const promoteDue = defineScript<[number, number]>('promote-due', promoteDueSource);
/** `{next cursor, {{id, fields, attempts}…}}` */
export const claimStuck = defineScript<[string, [string, RawFields, number][]]>('claim-stuck', claimStuckSource);
/** Ids no longer owned. */
export const extendClaims = defineScript<string[]>('extend-claims', extendClaimsSource);
/** New entry id, or null. */
export const replayDead = defineScript<string | null>('replay-dead', replayDeadSource);
/** Deleted count. */
export const purgeDead = defineScript<number>('purge-dead', purgeDeadSource);
/** `{removed, MINID used or ''}` */
export const trimStream = defineScript<[number, string]>('trim-stream', trimStreamSource);
/** `{now, length, delayed, dead, {{name, pending, lag, oldest pending id, {deliveries, count…}, consumers}…}}` */
export type StatsReply = [number, number, number, number, [string, number, number, string, number[], number][]];
export const readStats = defineScript<StatsReply>('read-stats', readStatsSource);
/** 1 when removed, 0 when it still owns pending entries. */
export const retireConsumer = defineScript<number>('retire-consumer', retireConsumerSource);
