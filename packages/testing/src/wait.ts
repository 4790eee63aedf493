import type { EventEmitter } from 'node:events';
import type { EventMap, TelemetryEmitter } from '@redkit/core';

/** Resolves after `ms` milliseconds: for load loops and fault windows, not for ordering events (wait for the event). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How {@link waitFor} polls and what it says when it gives up. */
export interface WaitForOptions {
  /**
   * How long to poll before giving up.
   * @default 10_000
   */
  timeoutMs?: number;
  /**
   * Pause between two checks.
   * @default 20
   */
  intervalMs?: number;
  /**
   * What is waited for, for the error: `timed out after 10000ms waiting for <what>`.
   * @default 'condition'
   */
  what?: string;
  /**
   * Builds the whole error message at the time of giving up instead (it may
   * read the state the check left behind); overrides `what`.
   */
  message?: () => string | Promise<string>;
  /**
   * Treat a check that throws as "not yet" (a server still starting refuses
   * connections), instead of rejecting with its error. The last such error is
   * the timeout error's `cause`.
   * @default false
   */
  ignoreErrors?: boolean;
}

/**
 * Polls `check` until it returns true, or rejects once `timeoutMs` passed,
 * naming what it waited for. A check that throws rejects at once, unless
 * `ignoreErrors` is set.
 *
 * @example
 * ```ts
 * await waitFor(() => processed.size === 100, { timeoutMs: 10_000, what: '100 processed messages' })
 * ```
 */
export async function waitFor(check: () => boolean | Promise<boolean>, options?: WaitForOptions): Promise<void>;
/**
 * Polls `check` until it returns true, or rejects after `timeoutMs`.
 * @deprecated pass an options object: `waitFor(check, { timeoutMs, what })`.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what?: string): Promise<void>;
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  optionsOrTimeout: WaitForOptions | number = {},
  legacyWhat?: string,
): Promise<void> {
  const options: WaitForOptions =
    typeof optionsOrTimeout === 'number'
      ? { timeoutMs: optionsOrTimeout, ...(legacyWhat === undefined ? {} : { what: legacyWhat }) }
      : optionsOrTimeout;
  const { timeoutMs = 10_000, intervalMs = 20, what = 'condition', message, ignoreErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      if (!ignoreErrors) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const text = message ? await message() : `timed out after ${timeoutMs}ms waiting for ${what}`;
      throw new Error(text, lastError === undefined ? undefined : { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/** How long {@link eventually} retries. */
export interface EventuallyOptions {
  /**
   * How long to retry before failing with the assertion's last error.
   * @default 5_000
   */
  timeoutMs?: number;
  /**
   * Pause between two attempts.
   * @default 20
   */
  intervalMs?: number;
}

/**
 * Runs `assertion` until it stops throwing, and resolves with what it
 * returned; after `timeoutMs` it rejects with the assertion's last error (so
 * the test report shows the expectation that failed, with its diff). For
 * state that settles a moment after the call that caused it.
 *
 * @example
 * ```ts
 * await eventually(async () => {
 *   expect(await redis.get('counter')).toBe('3');
 * }, { timeoutMs: 2_000 })
 * ```
 */
export async function eventually<T>(assertion: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 5_000, intervalMs = 20 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await sleep(intervalMs);
  }
}

/** Which event {@link nextEvent} waits for, and for how long. */
export interface NextEventOptions<Payload> {
  /**
   * Rejects when no matching event came within this time.
   * @default 5_000
   */
  timeoutMs?: number;
  /** Only an event whose payload passes this resolves; others are skipped. */
  matches?: (payload: Payload) => boolean;
}

/** A Node `EventEmitter`, or anything with its `on`/`off` pair. */
type NodeEmitter = Pick<EventEmitter, 'on' | 'off'>;

/**
 * Resolves with the payload of the next `name` event (the first that
 * `matches`), or rejects after `timeoutMs`. It listens from the moment it is
 * called, so call it before the action that emits, and await it after:
 * the test then waits for the event itself, not for a guess of how long it
 * takes. Works with a redkit pattern's `events` (a `TelemetryEmitter`) and
 * with Node `EventEmitter`s (it then resolves with the event's first
 * argument); the listener is removed either way.
 *
 * @example
 * ```ts
 * const refreshed = nextEvent(cache.events, 'refresh', { matches: ({ key }) => key === 'a' })
 * await cache.get('a', load)
 * expect((await refreshed).key).toBe('a')
 * ```
 */
export function nextEvent<Events extends EventMap, Type extends keyof Events & string>(
  emitter: TelemetryEmitter<Events>,
  name: Type,
  options?: NextEventOptions<Events[Type]>,
): Promise<Events[Type]>;
export function nextEvent<Payload = unknown>(
  emitter: NodeEmitter,
  name: string | symbol,
  options?: NextEventOptions<Payload>,
): Promise<Payload>;
export function nextEvent(
  emitter: TelemetryEmitter<EventMap> | NodeEmitter,
  name: string | symbol,
  options: NextEventOptions<unknown> = {},
): Promise<unknown> {
  const { timeoutMs = 5_000, matches = () => true } = options;
  return new Promise((resolve, reject) => {
    let off = () => {};
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${options.matches ? 'matching ' : ''}"${String(name)}" event within ${timeoutMs}ms`));
    }, timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      off();
    };
    const listener = (payload: unknown) => {
      try {
        if (!matches(payload)) return;
      } catch (error) {
        settle();
        reject(error);
        return;
      }
      settle();
      resolve(payload);
    };
    const added = (emitter as { on(name: string | symbol, listener: (payload: unknown) => void): unknown }).on(
      name,
      listener,
    );
    // A TelemetryEmitter returns its remover; a Node emitter returns itself.
    off =
      typeof added === 'function'
        ? (added as () => void)
        : () => {
            (emitter as NodeEmitter).off(name, listener);
          };
  });
}
