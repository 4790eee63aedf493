import { describe, expect, it } from 'vitest';
import { spanAt, spansBetween, toInstant } from '../src/periods.js';

const iso = (ms: number) => new Date(ms).toISOString();
const paris = { timeZone: 'Europe/Paris', weekStartsOn: 1 };

describe('period spans in a time zone', () => {
  it('a day runs from local midnight to local midnight', () => {
    const span = spanAt('daily', Date.parse('2025-06-15T21:59:59.999Z'), paris);
    expect(span).toMatchObject({ period: 'daily', id: '2025-06-15' });
    expect(iso(span.start)).toBe('2025-06-14T22:00:00.000Z');
    expect(iso(span.end)).toBe('2025-06-15T22:00:00.000Z');
    expect(spanAt('daily', Date.parse('2025-06-15T22:00:00.000Z'), paris).id).toBe('2025-06-16');
  });

  it('daylight saving days last 23 and 25 hours', () => {
    const spring = spanAt('daily', Date.parse('2025-03-30T12:00:00Z'), paris);
    expect((spring.end - spring.start) / 3_600_000).toBe(23);
    const autumn = spanAt('daily', Date.parse('2025-10-26T12:00:00Z'), paris);
    expect((autumn.end - autumn.start) / 3_600_000).toBe(25);
  });

  it('where midnight is skipped by daylight saving, the day starts when the clock jumps', () => {
    const santiago = { timeZone: 'America/Santiago', weekStartsOn: 1 };
    const span = spanAt('daily', Date.parse('2024-09-08T12:00:00Z'), santiago);
    expect(span.id).toBe('2024-09-08');
    expect(iso(span.start)).toBe('2024-09-08T04:00:00.000Z');
    expect(spanAt('daily', span.start - 1, santiago).id).toBe('2024-09-07');
  });

  it('weeks start on the configured weekday', () => {
    // Wednesday 2025-01-15.
    const wednesday = Date.parse('2025-01-15T12:00:00Z');
    const monday = spanAt('weekly', wednesday, { timeZone: 'UTC', weekStartsOn: 1 });
    expect(monday).toMatchObject({ id: '2025-01-13' });
    expect(iso(monday.start)).toBe('2025-01-13T00:00:00.000Z');
    expect(iso(monday.end)).toBe('2025-01-20T00:00:00.000Z');
    expect(spanAt('weekly', wednesday, { timeZone: 'UTC', weekStartsOn: 0 }).id).toBe('2025-01-12');
    expect(spanAt('weekly', wednesday, { timeZone: 'UTC', weekStartsOn: 3 }).id).toBe('2025-01-15');
    // A week that spans a year boundary keeps its first day's id.
    expect(spanAt('weekly', Date.parse('2025-01-01T12:00:00Z'), { timeZone: 'UTC', weekStartsOn: 1 }).id).toBe(
      '2024-12-30',
    );
  });

  it('months run from the 1st to the 1st, across years', () => {
    const december = spanAt('monthly', Date.parse('2024-12-31T23:30:00Z'), paris);
    expect(december.id).toBe('2025-01');
    const tokyo = spanAt('monthly', Date.parse('2024-12-31T14:59:59Z'), { timeZone: 'Asia/Tokyo', weekStartsOn: 1 });
    expect(tokyo.id).toBe('2024-12');
    expect(iso(tokyo.end)).toBe('2024-12-31T15:00:00.000Z');
  });

  it('lists the spans between two instants, inclusive, within a limit', () => {
    const spans = spansBetween(
      'daily',
      Date.parse('2025-01-30T10:00:00Z'),
      Date.parse('2025-02-02T00:00:00Z'),
      paris,
      10,
    );
    expect(spans?.map((span) => span.id)).toEqual(['2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02']);
    expect(spansBetween('daily', 0, 10 * 86_400_000, paris, 5)).toBeUndefined();
  });

  it('days given as YYYY-MM-DD are the start of that day in the time zone', () => {
    expect(iso(toInstant('2025-06-15', paris) as number)).toBe('2025-06-14T22:00:00.000Z');
    expect(toInstant('2025-02-30', paris)).toBeUndefined();
    expect(toInstant('15/06/2025', paris)).toBeUndefined();
    expect(toInstant(new Date('invalid'), paris)).toBeUndefined();
  });
});
