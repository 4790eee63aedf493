/**
 * Payload of a telemetry event. Patterns add their own fields; `durationMs`,
 * when present, is recorded as a latency by the OpenTelemetry bridge.
 */
export interface TelemetryPayload {
  readonly durationMs?: number;
}

/**
 * Map of event name to payload type, declared by each pattern as a type alias
 * (payloads are objects; see {@link TelemetryPayload} for the shared fields).
 */
export type EventMap = { [type: string]: object };

/** Receives every event of an emitter (used by bridges and loggers). */
export type AnyEventListener = (pattern: string, type: string, payload: TelemetryPayload) => void;

/** Listener options a pattern accepts: one optional function per event name. */
export type EventHooks<Events extends EventMap> = { [Type in keyof Events]?: (payload: Events[Type]) => void };

/**
 * Typed event hooks of one pattern instance. Listeners run synchronously; one
 * that throws is reported as a process warning and never breaks the pattern.
 *
 * @example
 * ```ts
 * cache.events.on('miss', ({ key, durationMs }) => log.debug({ key, durationMs }))
 * ```
 */
export class TelemetryEmitter<Events extends EventMap> {
  /** The pattern's name, e.g. `"cache"`; becomes the `redkit.pattern` attribute. */
  readonly pattern: string;
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();
  private readonly anyListeners = new Set<AnyEventListener>();

  constructor(pattern: string, hooks?: EventHooks<Events>) {
    this.pattern = pattern;
    if (hooks) {
      for (const type of Object.keys(hooks) as (keyof Events)[]) {
        const hook = hooks[type];
        if (hook) this.on(type, hook);
      }
    }
  }

  /** Adds a listener; returns a function that removes it. */
  on<Type extends keyof Events>(type: Type, listener: (payload: Events[Type]) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Adds a listener of every event; returns a function that removes it. */
  onAny(listener: AnyEventListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  /** Whether anybody listens to `type`, so callers can skip building payloads. */
  listens(type: keyof Events): boolean {
    return this.anyListeners.size > 0 || (this.listeners.get(type)?.size ?? 0) > 0;
  }

  /** Emits an event. */
  emit<Type extends keyof Events & string>(type: Type, payload: Events[Type]): void {
    const set = this.listeners.get(type);
    if (set) {
      for (const listener of set) this.call(() => (listener as (payload: Events[Type]) => void)(payload), type);
    }
    for (const listener of this.anyListeners) this.call(() => listener(this.pattern, type, payload), type);
  }

  private call(run: () => void, type: string): void {
    try {
      run();
    } catch (error) {
      process.emitWarning(`a ${this.pattern} "${type}" listener threw: ${String(error)}`, {
        code: 'REDKIT_LISTENER_ERROR',
      });
    }
  }
}
