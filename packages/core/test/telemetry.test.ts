import type { Meter, Span, Tracer } from '@opentelemetry/api';
import { TelemetryEmitter } from '@redkit/core';
import { instrument } from '@redkit/core/otel';
import { describe, expect, it } from 'vitest';

type CacheEvents = {
  hit: { key: string; durationMs: number };
  miss: { key: string };
};

describe('TelemetryEmitter', () => {
  it('delivers typed events to listeners, hooks given at construction and any-listeners', () => {
    const hooked: string[] = [];
    const emitter = new TelemetryEmitter<CacheEvents>('cache', { miss: ({ key }) => hooked.push(key) });
    const hits: number[] = [];
    const all: string[] = [];
    const off = emitter.on('hit', ({ durationMs }) => hits.push(durationMs));
    emitter.onAny((pattern, type) => all.push(`${pattern}.${type}`));

    emitter.emit('hit', { key: 'a', durationMs: 3 });
    emitter.emit('miss', { key: 'b' });
    off();
    emitter.emit('hit', { key: 'c', durationMs: 4 });

    expect(hits).toEqual([3]);
    expect(hooked).toEqual(['b']);
    expect(all).toEqual(['cache.hit', 'cache.miss', 'cache.hit']);
    expect(emitter.listens('miss')).toBe(true);
  });

  it('reports a throwing listener as a warning and keeps delivering', async () => {
    const emitter = new TelemetryEmitter<CacheEvents>('cache');
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'REDKIT_LISTENER_ERROR') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    const received: string[] = [];
    emitter.on('miss', () => {
      throw new Error('listener bug');
    });
    emitter.on('miss', ({ key }) => received.push(key));
    expect(() => emitter.emit('miss', { key: 'k' })).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    process.off('warning', onWarning);
    expect(received).toEqual(['k']);
    expect(warnings).toEqual(['a cache "miss" listener threw: Error: listener bug']);
  });

  it('listens() is false when nobody listens, so payloads need not be built', () => {
    expect(new TelemetryEmitter<CacheEvents>('cache').listens('hit')).toBe(false);
  });
});

describe('OpenTelemetry bridge', () => {
  it('counts events, records durations and makes spans with the payload', () => {
    const counted: [number, unknown][] = [];
    const recorded: [number, unknown][] = [];
    const spans: { name: string; attributes: unknown; ended: boolean }[] = [];
    const meter = {
      createCounter: () => ({ add: (value: number, attributes: unknown) => counted.push([value, attributes]) }),
      createHistogram: () => ({ record: (value: number, attributes: unknown) => recorded.push([value, attributes]) }),
    } as unknown as Meter;
    const tracer = {
      startSpan: (name: string, options: { attributes: unknown }) => {
        const span = { name, attributes: options.attributes, ended: false };
        spans.push(span);
        return { end: () => (span.ended = true) } as unknown as Span;
      },
    } as unknown as Tracer;

    const emitter = new TelemetryEmitter<CacheEvents>('cache');
    const detach = instrument(emitter, { meter, tracer });
    emitter.emit('hit', { key: 'user:1', durationMs: 12 });
    emitter.emit('miss', { key: 'user:2' });
    detach();
    emitter.emit('miss', { key: 'user:3' });

    const attributes = (event: string) => ({ 'redkit.pattern': 'cache', 'redkit.event': event });
    expect(counted).toEqual([
      [1, attributes('hit')],
      [1, attributes('miss')],
    ]);
    expect(recorded).toEqual([[12, attributes('hit')]]);
    expect(spans).toEqual([
      {
        name: 'redkit.cache.hit',
        attributes: { ...attributes('hit'), 'redkit.key': 'user:1', 'redkit.durationMs': 12 },
        ended: true,
      },
    ]);
  });
});
