export { ShardedCounter } from './counter.js';
export { type HotKey, HotKeyDetector } from './detector.js';
export { errors, NotReplicatedError } from './errors.js';
export type { HotKeyEvents } from './events.js';
export {
  type HotKeyDetectorOptions,
  hotKeyDetectorOptionsSchema,
  maxSpread,
  type ResolvedHotKeyDetectorOptions,
  type ResolvedShardedCounterOptions,
  type ShardedCounterOptions,
  shardedCounterOptionsSchema,
} from './options.js';
export { mastersOf, slotCount, slotRange, spreadTags, tagSlot } from './spread.js';
