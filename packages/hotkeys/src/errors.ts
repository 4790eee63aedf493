import { InvalidOptionsError, RedisUnavailableError, RedkitError } from '@redkit/core';

/**
 * An increment was applied on the master, but fewer replicas than
 * `waitForReplicas` acknowledged it within `waitTimeout`: it may be lost if
 * that master fails before its replicas catch up. Do not retry blindly: the
 * increment did happen on the master.
 */
export class NotReplicatedError extends RedkitError {
  /** Replicas that acknowledged the write. */
  readonly acknowledged: number;
  /** Replicas that were asked for. */
  readonly wanted: number;

  constructor(acknowledged: number, wanted: number) {
    super(
      'E_HOTKEYS_NOT_REPLICATED',
      `the increment was applied on the master but only ${acknowledged} of ${wanted} replicas acknowledged it in time`,
    );
    this.acknowledged = acknowledged;
    this.wanted = wanted;
  }
}

/** Errors thrown by @redkit/hotkeys, for `instanceof` checks. */
export const errors = {
  NotReplicatedError,
  InvalidOptionsError,
  RedisUnavailableError,
} as const;
