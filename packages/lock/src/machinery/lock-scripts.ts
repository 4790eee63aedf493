import { defineScript } from '@redkit/core';
import type { ResourceKeys } from './resources.js';
import extendLockSource from './scripts/extend-lock.lua';
import releaseLockSource from './scripts/release-lock.lua';

/**
 * Scripts on plain lock keys (a string holding the holder's token), shared by
 * the mutex, the read-write lock's writer and each instance of a Redlock quorum.
 */
export const extendLock = defineScript<number>('extend-lock', extendLockSource);
export const releaseLock = defineScript<number>('release-lock', releaseLockSource);

/** The lock key of each resource: `<ns>:{<resource>}:lock`, or `<ns>:{<tag>}:<resource>:lock`. */
export const lockKeys = (keys: ResourceKeys): string[] => keys.ids.map((id) => `${id}:lock`);
