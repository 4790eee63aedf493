import { defineScript } from '@redkit/core';
import describeSessionsSource from './scripts/describe-sessions.lua';
import destroySessionsSource from './scripts/destroy-sessions.lua';
import indexSessionSource from './scripts/index-session.lua';
import pruneIndexSource from './scripts/prune-index.lua';
import readSessionSource from './scripts/read-session.lua';
import rotateSessionSource from './scripts/rotate-session.lua';
import touchSessionSource from './scripts/touch-session.lua';
import writeSessionSource from './scripts/write-session.lua';

/** `{status, version, created, deadline, pttl}` */
export type WriteReply = [number, number, number, number, number];
/** `{status, version, created, deadline, pttl, user}` */
export type RotateReply = [number, number, number, number, number, string];
/** Per session: false, or `{user, created, deadline, pttl, version}`. */
export type DescribeReply = (false | null | [string, number, number, number, number])[];

export const indexSession = defineScript<number>('index-session', indexSessionSource);
export const pruneIndex = defineScript<string[]>('prune-index', pruneIndexSource);
export const writeSession = defineScript<WriteReply>('write-session', writeSessionSource);
export const readSession = defineScript<(string | number)[] | null>('read-session', readSessionSource);
export const touchSession = defineScript<number>('touch-session', touchSessionSource);
export const destroySessions = defineScript<(string | null)[]>('destroy-sessions', destroySessionsSource);
export const describeSessions = defineScript<DescribeReply>('describe-sessions', describeSessionsSource);
export const rotateSession = defineScript<RotateReply>('rotate-session', rotateSessionSource);
