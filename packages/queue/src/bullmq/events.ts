/**
 * The telemetry events that `TypedQueue` and `TypedWorker` emit, apart from
 * the stream queue's `QueueEvents` because BullMQ jobs have their own fields.
 */

/** Telemetry events of a {@link TypedQueue} or {@link TypedWorker}. */
export type BullmqEvents = {
  /** A job was added. */
  added: { queue: string; name: string; jobId: string | undefined; durationMs: number };
  /** A job's data (before its handler) or its handler's result failed the schema: the job failed without retries. */
  invalid: { queue: string; name: string; jobId: string | undefined; stage: 'data' | 'result'; error: string };
  /** A handler finished and its result passed the schema. */
  completed: { queue: string; name: string; jobId: string | undefined; attempt: number; durationMs: number };
  /** A handler failed; `willRetry` when BullMQ will run it again (attempts left, not unrecoverable). */
  failed: {
    queue: string;
    name: string;
    jobId: string | undefined;
    attempt: number;
    error: string;
    willRetry: boolean;
  };
  /** BullMQ reported a connection or processing error (it keeps running). */
  error: { queue: string; error: string };
};
