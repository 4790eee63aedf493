import {
  CrossSlotError,
  errors,
  type InvalidOptionsError,
  parseOptions,
  RedisUnavailableError,
  RedkitError,
  ScriptError,
} from '@redkit/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describe('errors', () => {
  it('carry a stable code, the class name and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new RedisUnavailableError('cannot reach Redis', { cause });
    expect(error).toBeInstanceOf(RedkitError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('E_REDIS_UNAVAILABLE');
    expect(error.name).toBe('RedisUnavailableError');
    expect(error.cause).toBe(cause);
    expect(new ScriptError('rk_x', 'boom').code).toBe('E_SCRIPT');
    expect(new CrossSlotError(['a', 'b']).code).toBe('E_CROSS_SLOT');
  });

  it('subclasses defined by patterns get their own name', () => {
    class LockBusyError extends RedkitError {
      constructor() {
        super('E_LOCK_BUSY', 'busy');
      }
    }
    expect(new LockBusyError().name).toBe('LockBusyError');
  });

  it('InvalidOptionsError lists every bad field by its path', () => {
    const schema = z.object({
      limit: z.number().int().positive(),
      policies: z.array(z.object({ window: z.string() })),
    });
    try {
      parseOptions(schema, { limit: -1, policies: [{ window: 5 }] }, 'RateLimiter');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(errors.InvalidOptionsError);
      const invalid = error as InvalidOptionsError;
      expect(invalid.code).toBe('E_INVALID_OPTIONS');
      expect(invalid.issues.map((issue) => issue.path)).toEqual(['limit', 'policies.0.window']);
      expect(invalid.message).toMatch(/^RateLimiter: invalid options: limit: .+; policies\.0\.window: /);
    }
  });

  it('the errors map exposes every class', () => {
    expect(Object.keys(errors).sort()).toEqual(
      [
        'CrossSlotError',
        'InvalidOptionsError',
        'RedisCommandError',
        'RedisUnavailableError',
        'RedkitError',
        'ScriptError',
      ].sort(),
    );
  });
});
