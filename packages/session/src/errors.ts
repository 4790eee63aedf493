import { InvalidOptionsError, RedisUnavailableError, RedkitError } from '@redkit/core';

/**
 * Session data failed the store's schema on a write; nothing was written.
 * An {@link InvalidOptionsError} whose paths start with `data.`. (Data that
 * fails the schema on a read is not thrown: the session is treated as absent
 * and an `invalid-data` event reports it.)
 */
export class InvalidSessionDataError extends InvalidOptionsError {}

/**
 * `create` could not get a session written: every attempt met a concurrent
 * `destroyAll` of the same user (or an id collision). Rare; safe to retry.
 */
export class SessionWriteRefusedError extends RedkitError {
  constructor(message: string) {
    super('E_SESSION_WRITE_REFUSED', message);
  }
}

/** Errors thrown by @redkit/session, for `instanceof` checks. */
export const errors = {
  InvalidSessionDataError,
  SessionWriteRefusedError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
