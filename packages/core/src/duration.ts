import { z } from 'zod';

/**
 * A span of time: a number of milliseconds, or a string such as `"250ms"`,
 * `"10s"`, `"5m"`, `"1h"`, `"1d"` (decimals allowed: `"1.5s"`).
 */
export type Duration = number | `${number}${DurationUnit}` | `${number} ${DurationUnit}`;

/** Units accepted in duration strings. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const unitMs: Record<DurationUnit, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const durationPattern = /^(\d+(?:\.\d+)?|\.\d+)\s?(ms|s|m|h|d)$/;

/**
 * Parses a duration to whole milliseconds, or explains why it cannot.
 * Fractions of a millisecond round up so that a positive duration never
 * becomes zero.
 */
function toMs(value: unknown): { ok: true; ms: number } | { ok: false; reason: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'must be a finite number of milliseconds' };
    if (value < 0) return { ok: false, reason: 'must not be negative' };
    return { ok: true, ms: Math.ceil(value) };
  }
  if (typeof value !== 'string') {
    return { ok: false, reason: 'expected milliseconds or a string like "250ms", "10s", "5m", "1h", "1d"' };
  }
  const match = durationPattern.exec(value.trim());
  if (!match) {
    return {
      ok: false,
      reason: `"${value}" is not a duration; use milliseconds or a string like "250ms", "10s", "5m", "1h", "1d"`,
    };
  }
  const ms = Math.ceil(Number(match[1]) * unitMs[match[2] as DurationUnit]);
  if (!Number.isSafeInteger(ms)) return { ok: false, reason: `"${value}" is too large` };
  return { ok: true, ms };
}

/**
 * Converts a {@link Duration} to milliseconds.
 *
 * @throws RangeError naming the bad value when it is not a duration.
 * @example
 * ```ts
 * parseDuration('1.5s') // 1500
 * parseDuration(250)    // 250
 * ```
 */
export function parseDuration(value: Duration): number {
  const result = toMs(value);
  if (!result.ok) throw new RangeError(`invalid duration: ${result.reason}`);
  return result.ms;
}

export interface DurationSchemaOptions {
  /** Smallest accepted value in ms (inclusive). @default 0 */
  min?: number;
  /** Largest accepted value in ms (inclusive). */
  max?: number;
}

/**
 * A zod schema that accepts a {@link Duration} and outputs milliseconds, for
 * use inside option schemas so errors name the field.
 *
 * @example
 * ```ts
 * const options = z.object({ ttl: durationSchema({ min: 1 }) })
 * ```
 */
export function durationSchema(options: DurationSchemaOptions = {}) {
  const { min = 0, max } = options;
  return z.custom<Duration>().transform((value, ctx) => {
    const result = toMs(value);
    if (!result.ok) {
      ctx.addIssue({ code: 'custom', message: result.reason });
      return z.NEVER;
    }
    if (result.ms < min) {
      ctx.addIssue({ code: 'custom', message: min === 1 ? 'must be greater than 0' : `must be at least ${min}ms` });
      return z.NEVER;
    }
    if (max !== undefined && result.ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${max}ms` });
      return z.NEVER;
    }
    return result.ms;
  });
}
