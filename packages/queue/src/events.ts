/** Telemetry events of a `StreamQueue` and its consumers. */
export type QueueEvents = {
  /** A message was appended (`duplicate`: an idempotency key seen before; nothing was added). */
  added: { stream: string; duplicate: boolean };
  /** A handler finished and the message was acknowledged. */
  processed: { stream: string; group: string; attempt: number; durationMs: number };
  /** A handler failed; the message will be delivered again after `delayMs`. */
  retried: { stream: string; group: string; attempt: number; delayMs: number; error: string };
  /** No permit of the throttling semaphore was free: the message is delivered again after `delayMs` (not an attempt). */
  throttled: { stream: string; group: string; delayMs: number };
  /** A message was moved to the dead letters. */
  'dead-lettered': { stream: string; group: string; attempts: number; reason: string; error: string };
  /** Messages pending past the visibility timeout were taken over by this consumer. */
  claimed: { stream: string; group: string; consumer: string; count: number };
  /** A consumer found that a message it was processing had been claimed by another (it ran too long). */
  'claim-lost': { stream: string; group: string; consumer: string; id: string };
  /** Delayed retries were moved back onto the stream. */
  promoted: { stream: string; count: number };
  /** A background step of a consumer (or the queue's automatic trim, with `group: ''`) failed; it keeps running and tries again. */
  error: {
    stream: string;
    group: string;
    step: 'read' | 'ack' | 'fail' | 'claim' | 'heartbeat' | 'promote' | 'stop' | 'throttle' | 'trim';
    error: string;
    /** The entries concerned (`ack`, `fail`): left pending, they are delivered again after the visibility timeout. */
    ids?: readonly string[];
  };
};
