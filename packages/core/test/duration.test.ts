import { durationSchema, InvalidOptionsError, parseDuration, parseOptions } from '@redkit/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [250, 250],
    [1.2, 2], // fractions of a ms round up so a positive duration never becomes 0
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['.5s', 500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['2 s', 2_000],
    [' 3s ', 3_000],
  ] as const)('%j is %d ms', (input, expected) => {
    expect(parseDuration(input as never)).toBe(expected);
  });

  it.each([
    ['10', /not a duration/],
    ['10 sec', /not a duration/],
    ['1w', /not a duration/],
    ['-5s', /not a duration/],
    ['', /not a duration/],
    ['1e3ms', /not a duration/],
    [-1, /negative/],
    [Number.NaN, /finite/],
    [Number.POSITIVE_INFINITY, /finite/],
    ['99999999999999999d', /too large/],
  ] as const)('rejects %j', (input, message) => {
    expect(() => parseDuration(input as never)).toThrow(message);
  });

  it('rejects values that are neither numbers nor strings', () => {
    expect(() => parseDuration({} as never)).toThrow(/expected milliseconds or a string/);
  });
});

describe('durationSchema', () => {
  const schema = z.object({ ttl: durationSchema({ min: 1, max: 60_000 }), grace: durationSchema().optional() });

  it('outputs milliseconds', () => {
    expect(parseOptions(schema, { ttl: '30s', grace: 0 })).toEqual({ ttl: 30_000, grace: 0 });
  });

  it.each([
    [{ ttl: 0 }, 'ttl: must be greater than 0'],
    [{ ttl: '2m' }, 'ttl: must be at most 60000ms'],
    [{ ttl: 'soon' }, 'ttl: "soon" is not a duration'],
    [{ ttl: '1s', grace: -1 }, 'grace: must not be negative'],
  ])('names the field in the error for %j', (input, message) => {
    const error = (() => {
      try {
        parseOptions(schema, input, 'Example');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).toMatch(/^Example: invalid options: /);
  });
});
