import { InvalidOptionsError, RedisUnavailableError } from '@redkit/core';

/**
 * A message failed the queue's schema on `add`/`addMany`; nothing was
 * written. An {@link InvalidOptionsError} whose paths start with `message`
 * (or `messages.<index>`). A message that fails the schema when it is read is
 * not thrown: it goes to the dead letters with reason `invalid`.
 */
export class InvalidMessageError extends InvalidOptionsError {}

/** Errors thrown by @redkit/queue, for `instanceof` checks. */
export const errors = {
  InvalidMessageError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
