/**
 * Typed BullMQ jobs: job names with zod schemas for their data and result,
 * checked on add (nothing invalid reaches Redis) and again before and after a
 * handler runs, on a cluster-safe key prefix.
 *
 * @packageDocumentation
 */

export type { BullmqEvents } from './bullmq/events.js';
export {
  defineJob,
  type JobData,
  type JobDataInput,
  type JobDefinition,
  type JobDefinitions,
  type JobHandler,
  type JobHandlers,
  type JobResult,
  type JobResultInput,
  type TypedJob,
} from './bullmq/jobs.js';
export {
  clusterSafePrefix,
  type TypedQueueOptions,
  type TypedWorkerOptions,
  typedQueueOptionsSchema,
  typedWorkerOptionsSchema,
} from './bullmq/options.js';
export { TypedQueue } from './bullmq/typed-queue.js';
export { TypedWorker } from './bullmq/typed-worker.js';
