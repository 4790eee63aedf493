export {
  errors,
  LockBusyError,
  LockClosedError,
  LockLostError,
  LockReplicationError,
  type QuorumBusyDetail,
  QuorumUnavailableError,
  type QuorumVotes,
} from './errors.js';
export type { FencedAcquired, LockEvents } from './events.js';
export type { FencedLock, Lock, LockLostReason, ReleaseStatus } from './lock.js';
export { hashTagOf } from './machinery/resources.js';
export { Mutex } from './mutex.js';
export {
  type AcquireOptions,
  acquireOptionsSchema,
  type MutexOptions,
  mutexOptionsSchema,
  type ReadWriteLockOptions,
  type ReplicasOptions,
  readWriteLockOptionsSchema,
  type SemaphoreOptions,
  semaphoreOptionsSchema,
  type TryAcquireOptions,
  tryAcquireOptionsSchema,
  type WithLockOptions,
  withLockOptionsSchema,
} from './options.js';
export { ReadWriteLock } from './read-write-lock.js';
export { type RunWithLockOptions, runWithLock } from './run-with-lock.js';
export { type Permit, Semaphore } from './semaphore.js';
