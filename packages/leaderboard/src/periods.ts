import {
  addDays,
  formatDate,
  formatMonth,
  type LocalDate,
  localDateAt,
  parseDate,
  startOfDay,
  weekday,
} from './time-zone.js';

/** The boards a leaderboard can keep. Every `submit` updates all of its boards at once. */
export type Period = 'all-time' | 'daily' | 'weekly' | 'monthly';

/** The periods that roll over. */
export type RollingPeriod = Exclude<Period, 'all-time'>;

/** One board's span of time: `[start, end)` in ms since the epoch. */
export interface PeriodSpan {
  readonly period: Period;
  /** `YYYY-MM-DD` (daily; weekly: the first day of the week), `YYYY-MM` (monthly), `all` (all-time). */
  readonly id: string;
  readonly start: number;
  readonly end: number;
}

/** How periods are cut: the calendar of one time zone. */
export interface Calendar {
  readonly timeZone: string;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekStartsOn: number;
}

const allTime: PeriodSpan = { period: 'all-time', id: 'all', start: -Infinity, end: Infinity };

function daySpan(period: RollingPeriod, first: LocalDate, next: LocalDate, id: string, calendar: Calendar) {
  return { period, id, start: startOfDay(first, calendar.timeZone), end: startOfDay(next, calendar.timeZone) };
}

/** The span of `period` that contains instant `ms`. */
export function spanAt(period: Period, ms: number, calendar: Calendar): PeriodSpan {
  if (period === 'all-time') return allTime;
  const date = localDateAt(ms, calendar.timeZone);
  if (period === 'daily') return daySpan(period, date, addDays(date, 1), formatDate(date), calendar);
  if (period === 'weekly') {
    const first = addDays(date, -((weekday(date) - calendar.weekStartsOn + 7) % 7));
    return daySpan(period, first, addDays(first, 7), formatDate(first), calendar);
  }
  const first = { year: date.year, month: date.month, day: 1 };
  const next = date.month === 12 ? { year: date.year + 1, month: 1, day: 1 } : { ...first, month: date.month + 1 };
  return daySpan(period, first, next, formatMonth(first), calendar);
}

/** Every span of `period` from the one containing `from` to the one containing `to`, inclusive. */
export function spansBetween(period: RollingPeriod, from: number, to: number, calendar: Calendar, limit: number) {
  const spans: PeriodSpan[] = [spanAt(period, from, calendar)];
  while ((spans.at(-1) as PeriodSpan).end <= to) {
    if (spans.length >= limit) return undefined;
    spans.push(spanAt(period, (spans.at(-1) as PeriodSpan).end, calendar));
  }
  return spans;
}

/**
 * An instant given as a `Date`, ms since the epoch, or a `YYYY-MM-DD` day
 * (the start of that day in the calendar's time zone). Undefined when it is
 * none of these.
 */
export function toInstant(value: unknown, calendar: Calendar): number | undefined {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.getTime() : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const date = parseDate(value);
    return date ? startOfDay(date, calendar.timeZone) : undefined;
  }
  return undefined;
}
