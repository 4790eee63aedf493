/** A calendar date (month 1–12). */
export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Whether the runtime knows `timeZone` (an IANA name such as "Europe/Paris", or "UTC"). */
export function isTimeZone(timeZone: unknown): boolean {
  if (typeof timeZone !== 'string' || timeZone.length === 0) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time in `timeZone` at instant `ms`, written as if it were a UTC instant (whole seconds). */
function wallClock(ms: number, timeZone: string): number {
  const fields = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  return Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second);
}

/** The calendar date in `timeZone` at instant `ms`. */
export function localDateAt(ms: number, timeZone: string): LocalDate {
  const wall = new Date(wallClock(ms, timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** `date` moved by `days` calendar days. */
export function addDays(date: LocalDate, days: number): LocalDate {
  const moved = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate() };
}

/** Day of the week of a date, 0 = Sunday … 6 = Saturday. */
export function weekday(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/**
 * The first instant of `date` in `timeZone`: local midnight, or the end of
 * the daylight-saving gap in zones where midnight is skipped. Found by binary
 * search over whole seconds, which handles any offset (including historical
 * offsets with seconds) without a time-zone database of our own.
 */
export function startOfDay(date: LocalDate, timeZone: string): number {
  const target = Date.UTC(date.year, date.month - 1, date.day);
  // Offsets lie within -12 h … +14 h; a margin on both sides.
  let low = Math.floor((target - 15 * 3_600_000) / 1000);
  let high = Math.ceil((target + 15 * 3_600_000) / 1000);
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (wallClock(middle * 1000, timeZone) >= target) high = middle;
    else low = middle + 1;
  }
  return low * 1000;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** `YYYY-MM-DD`. */
export function formatDate(date: LocalDate): string {
  return `${pad(date.year, 4)}-${pad(date.month, 2)}-${pad(date.day, 2)}`;
}

/** `YYYY-MM`. */
export function formatMonth(date: LocalDate): string {
  return `${pad(date.year, 4)}-${pad(date.month, 2)}`;
}

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses `YYYY-MM-DD` into a date, or undefined when it is not a real calendar date. */
export function parseDate(text: string): LocalDate | undefined {
  const match = datePattern.exec(text);
  if (!match) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  const check = new Date(Date.UTC(date.year, date.month - 1, date.day));
  if (check.getUTCMonth() + 1 !== date.month || check.getUTCDate() !== date.day) return undefined;
  return date;
}
