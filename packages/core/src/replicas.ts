import { z } from 'zod';
import type { PipelineCommand, RedisDriver } from './driver.js';
import { durationSchema } from './duration.js';
import { InvalidOptionsError } from './errors.js';

/**
 * The `replicas` option of a pattern that can wait for replicas to
 * acknowledge its writes (Redis `WAIT`), so that a crash of the master right
 * after cannot lose them. `onShortfall` lists what the pattern may do when
 * fewer replicas acknowledged in time; `shortfallDefault` is the default.
 *
 * @example
 * ```ts
 * const replicas = replicasSchema(['release', 'keep'], 'release').optional()
 * ```
 */
export function replicasSchema<const Shortfall extends readonly [string, ...string[]]>(
  onShortfall: Shortfall,
  shortfallDefault: Shortfall[number],
) {
  return z
    .object({
      /** Replicas that must acknowledge the write (Redis `WAIT numreplicas`). */
      count: z.number().int().min(1).max(100),
      /** How long to wait for them; must stay below the client's command timeout. @default "100ms" */
      timeout: durationSchema({ min: 1, max: 60_000 }).default(100),
      /** What to do when fewer replicas acknowledged in time (the pattern documents its choices). */
      onShortfall: z.enum(onShortfall).default(shortfallDefault as never),
    })
    .strict();
}

/** How many replicas must acknowledge, and how long to wait for them (ms). */
export interface ReplicaWait {
  readonly count: number;
  readonly timeout: number;
}

/**
 * Throws `InvalidOptionsError` (naming `<path>.timeout`) unless the WAIT
 * timeout is below the client's command timeout: WAIT blocks the connection
 * until then, and the client would give the command up first.
 */
export function checkReplicaWait(
  wait: ReplicaWait | undefined,
  driver: RedisDriver,
  path: string,
  context: string,
): void {
  if (wait && wait.timeout >= driver.timeoutMs) {
    throw new InvalidOptionsError(
      [
        {
          path: `${path}.timeout`,
          message: `must be less than the client's command timeout (${driver.timeoutMs}ms): WAIT blocks the connection until then`,
        },
      ],
      { context },
    );
  }
}

/**
 * Sends `commands`, then `WAIT count timeout`, in one pipeline and returns how
 * many replicas acknowledged. The commands carry a key of the slot whose
 * master must be waited on: a cluster client sends the whole pipeline, WAIT
 * included, to that master (a read such as `PTTL key` serves when there is
 * nothing to write). WAIT covers every write the connection made before it,
 * so it also covers a script run just before on the same client.
 *
 * @param callTimeoutMs the bound of the commands themselves; the call may take `wait.timeout` longer.
 * @returns the commands' results in order, and the acknowledged replica count.
 * @throws the first command error (a `RedkitError`), or `RedisUnavailableError` on a timeout.
 */
export async function waitForReplicas(
  driver: RedisDriver,
  commands: readonly PipelineCommand[],
  wait: ReplicaWait,
  callTimeoutMs: number = driver.timeoutMs,
): Promise<{ results: unknown[]; acknowledged: number }> {
  const replies = await driver.pipeline([...commands, ['WAIT', wait.count, wait.timeout]], {
    timeoutMs: callTimeoutMs + wait.timeout,
  });
  for (const [error] of replies) if (error) throw error;
  const results = replies.map(([, result]) => result);
  return { results: results.slice(0, -1), acknowledged: Number(results[results.length - 1]) };
}
