import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { EventMap, TelemetryEmitter, TelemetryPayload } from './telemetry.js';

export interface OpenTelemetryOptions {
  /**
   * Where metrics go. By default the global MeterProvider's meter `redkit`,
   * looked up again whenever the global provider changes, so `instrument()`
   * may run before the SDK is started.
   * @default metrics.getMeter('redkit')
   */
  meter?: Meter;
  /** Records events that carry `durationMs` as spans too. @default undefined (no spans) */
  tracer?: Tracer | boolean;
}

function spanAttributes(pattern: string, type: string, payload: TelemetryPayload): Attributes {
  const attributes: Attributes = { 'redkit.pattern': pattern, 'redkit.event': type };
  for (const [name, value] of Object.entries(payload)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      attributes[`redkit.${name}`] = value;
    }
  }
  return attributes;
}

/**
 * Records a pattern's events with OpenTelemetry: a counter
 * `redkit.events` and, for events with `durationMs`, a histogram
 * `redkit.duration` (ms), both with the low-cardinality attributes
 * `redkit.pattern` and `redkit.event`. With `tracer`, such events also become
 * spans carrying the payload's scalar fields (keys included, so mind PII).
 *
 * Lives in the `@redkit/core/otel` entry point, so `@opentelemetry/api` is
 * only needed by those who import it.
 *
 * @returns a function that detaches the bridge.
 * @example
 * ```ts
 * import { instrument } from '@redkit/core/otel'
 * const detach = instrument(cache.events, { tracer: true })
 * ```
 */
export function instrument<Events extends EventMap>(
  emitter: TelemetryEmitter<Events>,
  options: OpenTelemetryOptions = {},
): () => void {
  const instruments = options.meter ? fixedInstruments(options.meter) : globalInstruments();
  // trace.getTracer() returns a proxy that finds the global provider once it is set.
  const tracer = options.tracer === true ? trace.getTracer('redkit') : options.tracer || undefined;
  return emitter.onAny((pattern, type, payload) => {
    const { events, durations } = instruments();
    const attributes = { 'redkit.pattern': pattern, 'redkit.event': type };
    events.add(1, attributes);
    if (typeof payload.durationMs !== 'number') return;
    durations.record(payload.durationMs, attributes);
    if (tracer) {
      const end = Date.now();
      const span = tracer.startSpan(`redkit.${pattern}.${type}`, {
        startTime: end - payload.durationMs,
        attributes: spanAttributes(pattern, type, payload),
      });
      span.end(end);
    }
  });
}

interface Instruments {
  events: Counter;
  durations: Histogram;
}

function createInstruments(meter: Meter): Instruments {
  return {
    events: meter.createCounter('redkit.events', { description: 'Events emitted by redkit patterns' }),
    durations: meter.createHistogram('redkit.duration', {
      description: 'Duration of redkit operations that report one',
      unit: 'ms',
    }),
  };
}

function fixedInstruments(meter: Meter): () => Instruments {
  const instruments = createInstruments(meter);
  return () => instruments;
}

/**
 * Unlike tracing, the metrics API has no proxy provider: a meter taken before
 * `setGlobalMeterProvider()` (an SDK started after the app's modules load) is
 * a no-op for good. So the instruments are re-created whenever the global
 * provider is a different object than last time.
 */
function globalInstruments(): () => Instruments {
  let provider: MeterProvider | undefined;
  let instruments: Instruments | undefined;
  return () => {
    const current = metrics.getMeterProvider();
    if (current !== provider || !instruments) {
      provider = current;
      instruments = createInstruments(current.getMeter('redkit'));
    }
    return instruments;
  };
}
