import { type Meter, type MeterProvider, metrics, type Span, type Tracer } from '@opentelemetry/api';
import { TelemetryEmitter } from '@redkit/core';
import { instrument } from '@redkit/core/otel';
import { afterEach, describe, expect, it } from 'vitest';

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

/**
 * A MeterProvider as the API defines it, keeping what each instrument records
 * (@opentelemetry/sdk-metrics is not a dependency; this is the contract an SDK
 * fulfils, not a stand-in for Redis).
 */
function recordingMeterProvider() {
  const recorded: string[] = [];
  const instrument = (name: string) => {
    const keep = (value: number, attributes?: Record<string, unknown>) =>
      recorded.push(`${name} ${value} ${attributes?.['redkit.pattern']}.${attributes?.['redkit.event']}`);
    return { add: keep, record: keep };
  };
  const provider = {
    getMeter: (meterName: string) => {
      recorded.push(`meter ${meterName}`);
      return { createCounter: instrument, createHistogram: instrument } as unknown as Meter;
    },
  } as MeterProvider;
  return { provider, recorded };
}

describe('OpenTelemetry bridge and the global MeterProvider', () => {
  afterEach(() => {
    metrics.disable();
  });

  it('keeps the metrics of events emitted after the provider is set, even when instrument() ran first', () => {
    const emitter = new TelemetryEmitter<CacheEvents>('cache');
    const detach = instrument(emitter);
    emitter.emit('miss', { key: 'before the SDK started' }); // no provider yet: nowhere to go

    const first = recordingMeterProvider();
    expect(metrics.setGlobalMeterProvider(first.provider)).toBe(true);
    emitter.emit('hit', { key: 'a', durationMs: 7 });
    emitter.emit('miss', { key: 'b' });
    expect(first.recorded).toEqual([
      'meter redkit',
      'redkit.events 1 cache.hit',
      'redkit.duration 7 cache.hit',
      'redkit.events 1 cache.miss',
    ]);

    // A provider swapped later (tests, a restarted SDK) gets the events from then on.
    metrics.disable();
    const second = recordingMeterProvider();
    metrics.setGlobalMeterProvider(second.provider);
    emitter.emit('miss', { key: 'c' });
    detach();
    emitter.emit('miss', { key: 'd' });
    expect(second.recorded).toEqual(['meter redkit', 'redkit.events 1 cache.miss']);
    expect(first.recorded).toHaveLength(4);
  });
});
