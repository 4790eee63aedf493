/** Resolves after `ms` milliseconds: for load loops and fault windows, not for ordering events (wait for the event). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every 20 ms until it returns true, or throws after
 * `timeoutMs`, naming `what` it waited for.
 *
 * @example
 * ```ts
 * await waitFor(() => processed.size === 100, 10_000, '100 processed messages')
 * ```
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(20);
  }
}
