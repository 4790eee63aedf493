import { InvalidOptionsError, RedisUnavailableError, RedkitError } from '@redkit/core';

/**
 * A search started from `{ member }`, and that member is not in the index
 * (or is stale). Nothing was read.
 */
export class UnknownMemberError extends RedkitError {
  readonly member: string;

  constructor(member: string) {
    super('E_GEO_UNKNOWN_MEMBER', `member ${JSON.stringify(member)} is not in the index (or is stale)`);
    this.member = member;
  }
}

/** A page was asked of a snapshot that expired (its `ttl` passed) or never existed. */
export class SnapshotExpiredError extends RedkitError {
  readonly snapshot: string;

  constructor(snapshot: string) {
    super('E_GEO_SNAPSHOT_EXPIRED', `snapshot ${JSON.stringify(snapshot)} expired or does not exist`);
    this.snapshot = snapshot;
  }
}

/** Errors thrown by @redkit/geo, for `instanceof` checks. */
export const errors = {
  UnknownMemberError,
  SnapshotExpiredError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
