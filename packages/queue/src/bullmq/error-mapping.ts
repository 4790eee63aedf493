/**
 * How failures cross the BullMQ boundary: ioredis errors passed on by BullMQ
 * become redkit's typed Redis errors, and schema issues and thrown values
 * become the one-line texts that the telemetry events carry.
 */
import { issuesAt, RedisCommandError, RedisUnavailableError, RedkitError } from '@redkit/core';
import type { z } from 'zod';

export function describeIssues(error: z.ZodError, root: string): string {
  return issuesAt([root], error.issues)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
}

/**
 * BullMQ passes on ioredis's errors: a server reply (`ReplyError`) is a
 * refused command, a lost or closed connection an outage. Its own errors (bad
 * job options) are left as they are.
 */
export function toRedkitError(error: unknown, what: string): unknown {
  if (error instanceof RedkitError || !(error instanceof Error)) return error;
  if (error.name === 'ReplyError') return new RedisCommandError(what, error.message, { cause: error });
  if (
    /connection|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|writeable|max retries|timed out|Cluster is/i.test(error.message)
  ) {
    return new RedisUnavailableError(`${what}: ${error.message}`, { cause: error });
  }
  return error;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
