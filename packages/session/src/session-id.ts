import { randomBytes } from 'node:crypto';

/**
 * The first characters of a session id are its hash tag: every key of the
 * session lives in the slot of that tag, and `rotate()` keeps the tag, so the
 * old and the new id share a slot and the move is one atomic script.
 */
export const tagLength = 8;

/** 6 random bytes: 8 base64url characters, the id's hash tag. */
const tagBytes = 6;

/**
 * A new session id: 8 characters of hash tag, then `secretBytes` bytes from
 * the system's CSPRNG, all base64url (URL- and cookie-safe, no padding).
 */
export function newSessionId(secretBytes: number): string {
  return randomBytes(tagBytes).toString('base64url') + randomBytes(secretBytes).toString('base64url');
}

/** A new id for a session moved by `rotate()`: the old tag, a new secret. */
export function rotatedSessionId(oldId: string, secretBytes: number): string {
  return oldId.slice(0, tagLength) + randomBytes(secretBytes).toString('base64url');
}

/** The hash tag of a session id. */
export function tagOf(id: string): string {
  return id.slice(0, tagLength);
}
