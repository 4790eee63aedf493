export { errors, InvalidMessageError } from './errors.js';
export type { QueueEvents } from './events.js';
export {
  type AddManyOptions,
  type AddOptions,
  addManyOptionsSchema,
  addOptionsSchema,
  backoffSchema,
  type ConsumeOptions,
  consumeOptionsSchema,
  type HealthOptions,
  healthOptionsSchema,
  type ListDeadOptions,
  listDeadOptionsSchema,
  type MessageInputOf,
  type MessageOf,
  type MessageSchema,
  type StopOptions,
  type StreamQueueOptions,
  stopOptionsSchema,
  streamQueueOptionsSchema,
  type ThrottleSemaphore,
  type TrimOptions,
  throttleSchema,
  trimOptionsSchema,
} from './options.js';
export {
  Channel,
  type ChannelEvents,
  type ChannelHandler,
  type ChannelMessageContext,
  type ChannelOptions,
  ChannelPattern,
  type ChannelPatternOptions,
  type ChannelSubscription,
  channelOptionsSchema,
  channelPatternOptionsSchema,
} from './pubsub/channel.js';
export {
  type HubErrorListener,
  hubFor,
  PubSubHub,
  type RawListener,
  type ResubscribeListener,
  type SubscriptionKind,
} from './pubsub/channel-hub.js';
export { Consumer, type Handler, type MessageContext, type StopResult } from './streams/consumer.js';
export type { DeadLetter, DeadLetters } from './streams/dead-letters.js';
export { partitionOf, partitionStreams } from './streams/partitions.js';
export type { GroupStats, QueueHealth, QueueStats } from './streams/queue-stats.js';
export { type AddResult, StreamQueue } from './streams/stream-queue.js';
