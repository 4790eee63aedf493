/**
 * What `SessionStore` hands back: a session's info and data, and the outcomes
 * of `update` and `put`. Kept apart from the store so the framework stores and
 * the store's Redis calls share these shapes without reading the class.
 */
import type { WriteReply } from './scripts.js';

/** What the store knows of a session besides its data. Times are ms since the epoch. */
export interface SessionInfo {
  readonly id: string;
  /** The session's user, or null for an anonymous session (framework stores). */
  readonly userId: string | null;
  /** Bumped by every write of the data (and by rotation); pass it to `update` for optimistic concurrency. */
  readonly version: number;
  /** When the session was created (Redis server clock). */
  readonly createdAt: number;
  /** When it expires unless used again: the idle expiry, never after `absoluteExpiresAt` (approximate, client clock). */
  readonly expiresAt: number;
  /** When it ends however active it is (Redis server clock). */
  readonly absoluteExpiresAt: number;
}

/** A session with its data. */
export interface Session<Data> extends SessionInfo {
  readonly data: Data;
}

/**
 * A session as `getFields` reads it: its data, and each data field's JSON
 * text as stored (to pass to `put` as `previousFields`).
 */
export interface StoredSession<Data> extends Omit<SessionInfo, 'expiresAt'> {
  readonly data: Data;
  /** Each top-level data field's JSON text, as stored. */
  readonly fields: Readonly<Record<string, string>>;
}

/** Outcome of `update`. */
export type UpdateResult =
  | { readonly status: 'updated'; readonly version: number }
  /** The session's version was no longer the one given: nothing was written. */
  | { readonly status: 'conflict'; readonly version: number }
  /** No such session (never created, expired or destroyed): nothing was written. */
  | { readonly status: 'missing' };

/** Outcome of `put`. */
export type PutResult =
  | 'written'
  /** The id was destroyed (logout, `destroyAll`, rotation): a destroyed id is never written again. */
  | 'destroyed'
  /** `previous` was given but the session no longer exists (it expired): nothing was written. */
  | 'missing';

/** The info of a session a write or rotation just stored, from the script's reply. */
export function infoFromWrite(id: string, userId: string | null, reply: WriteReply): SessionInfo {
  return {
    id,
    userId,
    version: reply[1],
    createdAt: reply[2],
    absoluteExpiresAt: reply[3],
    expiresAt: Date.now() + reply[4],
  };
}
