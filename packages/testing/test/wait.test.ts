import { EventEmitter } from 'node:events';
import { TelemetryEmitter } from '@redkit/core';
import { eventually, nextEvent, sleep, waitFor } from '@redkit/testing';
import { describe, expect, it } from 'vitest';

describe('waitFor', () => {
  it('resolves once the check holds, and names what it waited for when it gives up', async () => {
    let n = 0;
    await waitFor(() => ++n === 3, { intervalMs: 1 });
    expect(n).toBe(3);
    await expect(waitFor(() => false, { timeoutMs: 30, what: 'nothing' })).rejects.toThrow(
      'timed out after 30ms waiting for nothing',
    );
    await expect(waitFor(() => false, 30, 'the old form')).rejects.toThrow('waiting for the old form');
    await expect(waitFor(() => false, { timeoutMs: 30, message: async () => `n is ${n}` })).rejects.toThrow('n is 3');
  });

  it('rejects with a check’s error, unless told to ignore errors (then the last one is the cause)', async () => {
    const boom = new Error('boom');
    await expect(
      waitFor(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    let calls = 0;
    await waitFor(
      () => {
        if (++calls < 3) throw boom;
        return true;
      },
      { ignoreErrors: true, intervalMs: 1 },
    );
    expect(calls).toBe(3);
    const failed = await waitFor(
      () => {
        throw boom;
      },
      { ignoreErrors: true, timeoutMs: 30 },
    ).catch((error: Error) => error);
    expect((failed as Error).cause).toBe(boom);
  });
});

describe('eventually', () => {
  it('retries the assertion until it passes and returns its value; else fails with its last error', async () => {
    let n = 0;
    expect(
      await eventually(
        () => {
          expect(++n).toBe(3);
          return 'done';
        },
        { intervalMs: 1 },
      ),
    ).toBe('done');
    await expect(eventually(() => expect(1).toBe(2), { timeoutMs: 30 })).rejects.toThrow('expected 1 to be 2');
  });
});

describe('nextEvent', () => {
  it('resolves with the next matching payload of a TelemetryEmitter and removes its listener', async () => {
    const events = new TelemetryEmitter<{ hit: { key: string } }>('test');
    const next = nextEvent(events, 'hit', { matches: ({ key }) => key === 'b' });
    events.emit('hit', { key: 'a' });
    events.emit('hit', { key: 'b' });
    expect(await next).toEqual({ key: 'b' });
    expect(events.listens('hit')).toBe(false);
  });

  it('resolves with the first argument of a Node EventEmitter event and removes its listener', async () => {
    const emitter = new EventEmitter();
    const next = nextEvent<number>(emitter, 'message');
    setImmediate(() => emitter.emit('message', 42, 'ignored'));
    expect(await next).toBe(42);
    expect(emitter.listenerCount('message')).toBe(0);
  });

  it('rejects after timeoutMs when no event came, and stops listening', async () => {
    const emitter = new EventEmitter();
    await expect(nextEvent(emitter, 'never', { timeoutMs: 20 })).rejects.toThrow('no "never" event within 20ms');
    expect(emitter.listenerCount('never')).toBe(0);
    await sleep(1);
  });
});
