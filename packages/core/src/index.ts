export { probeCapabilities, type ServerCapabilities, warnIfEvictable } from './capabilities.js';
export {
  type ConnectOptions,
  connect,
  connectOptionsSchema,
  type NodeAddress,
  type ParsedConnectionUrl,
  parseConnectionUrl,
  type ResolvedConnection,
  resolveConnection,
} from './connect.js';
export { type ConnectionEvents, connectionEvents } from './connection-events.js';
export { withDeadline } from './deadline.js';
export type {
  CallOptions,
  MessageListener,
  PipelineCommand,
  PipelineReply,
  RedisArg,
  RedisDriver,
  Subscriber,
} from './driver.js';
export {
  type Duration,
  type DurationSchemaOptions,
  type DurationUnit,
  durationSchema,
  parseDuration,
} from './duration.js';
export {
  CrossSlotError,
  errors,
  type InvalidOption,
  InvalidOptionsError,
  RedisCommandError,
  RedisUnavailableError,
  RedkitError,
  type RedkitErrorCode,
  ScriptError,
} from './errors.js';
export { type CheckIssue, issuesAt, parseField } from './field-issues.js';
export {
  driverFor,
  isCluster,
  isRedisConnection,
  isReplyError,
  type RedisConnection,
  redisConnectionSchema,
  whenReady,
} from './ioredis-driver.js';
export {
  assertSameSlot,
  escapeKeyPart,
  groupBySlot,
  type KeyPart,
  Keyspace,
  keySlot,
  unescapeKeyPart,
} from './keys.js';
export { namespaceSchema, parseOptions, zodSchemaOption } from './options.js';
export { patternNameSchema } from './pattern-name.js';
export { callOptions, callTimeoutSchema, patternOptions, type TypedSchemaOptions } from './pattern-options.js';
export { type PatternStart, startPattern } from './pattern-start.js';
export { checkReplicaWait, type ReplicaWait, replicasSchema, waitForReplicas } from './replicas.js';
export { type ScanOptions, scanAll } from './scan.js';
export { defineScript, type LuaScript, onScriptCall, type ScriptCall } from './script.js';
export { type ServerClock, serverClock } from './server-clock.js';
export { streamNameSchema } from './stream-name.js';
export {
  type AnyEventListener,
  type EventHooks,
  type EventMap,
  TelemetryEmitter,
  type TelemetryPayload,
} from './telemetry.js';
export { textSchema } from './text.js';
