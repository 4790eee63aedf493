import { type Attributes, type Meter, metrics, type Tracer, trace } from '@opentelemetry/api';
import type { EventMap, TelemetryEmitter, TelemetryPayload } from './telemetry.js';

export interface OpenTelemetryOptions {
  /** @default metrics.getMeter('redkit') */
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
  const meter = options.meter ?? metrics.getMeter('redkit');
  const tracer = options.tracer === true ? trace.getTracer('redkit') : options.tracer || undefined;
  const events = meter.createCounter('redkit.events', { description: 'Events emitted by redkit patterns' });
  const durations = meter.createHistogram('redkit.duration', {
    description: 'Duration of redkit operations that report one',
    unit: 'ms',
  });
  return emitter.onAny((pattern, type, payload) => {
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
