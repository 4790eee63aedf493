import { type RedisUnavailableError, withDeadline } from '@redkit/core';
import { describe, expect, it } from 'vitest';

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('withDeadline', () => {
  it('passes results and errors through when they arrive in time', async () => {
    await expect(withDeadline(after(5, 'ok'), 200, 'call')).resolves.toBe('ok');
    await expect(withDeadline(Promise.reject(new Error('boom')), 200, 'call')).rejects.toThrow('boom');
  });

  it('rejects late calls with a timed-out RedisUnavailableError, and only those', async () => {
    const calls = [after(10, 'fast'), after(300, 'slow'), after(20, 'fast'), after(400, 'slow')].map((call) =>
      withDeadline(call, 100, 'GET').then(
        (value) => value,
        (error: RedisUnavailableError) => `${error.name}:${error.timedOut}:${error.message}`,
      ),
    );
    expect(await Promise.all(calls)).toEqual([
      'fast',
      'RedisUnavailableError:true:GET did not complete within 100ms',
      'fast',
      'RedisUnavailableError:true:GET did not complete within 100ms',
    ]);
  });

  it('fires each deadline on time although one timer serves them all', async () => {
    const started = performance.now();
    const first = withDeadline(new Promise(() => {}), 80, 'a').catch(() => performance.now() - started);
    await after(40, null);
    const second = withDeadline(new Promise(() => {}), 80, 'b').catch(() => performance.now() - started);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBeGreaterThanOrEqual(79);
    expect(a).toBeLessThan(150);
    expect(b).toBeGreaterThanOrEqual(119);
    expect(b).toBeLessThan(200);
  });

  it('keeps up with many calls that settle in time', async () => {
    const results = await Promise.all(
      Array.from({ length: 5_000 }, (_, i) => withDeadline(Promise.resolve(i), 50, 'x')),
    );
    expect(results.at(-1)).toBe(4_999);
  });
});
