/**
 * Shared lock machinery: the extend and release scripts that several lock
 * kinds share (mutex, read-write lock, Redlock), and the lock key layout.
 */
import { defineScript } from '@redkit/core';
import extendLockSource from '../scripts/extend-lock.lua';
import releaseLockSource from '../scripts/release-lock.lua';
import type { ResourceKeys } from './resources.js';

/**
 * Scripts on plain lock keys (a string holding the holder's token), shared by
 * the mutex, the read-write lock's writer and each instance of a Redlock quorum.
 */
export const extendLock = defineScript<number>('extend-lock', extendLockSource);
export const releaseLock = defineScript<number>('release-lock', releaseLockSource);

/** The lock key of each resource: `<ns>:{<resource>}:lock`, or `<ns>:{<tag>}:<resource>:lock`. */
export const lockKeys = (keys: ResourceKeys): string[] => keys.ids.map((id) => `${id}:lock`);
