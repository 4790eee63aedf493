export { type AclUser, type AclUserOptions, createAclUser } from './acl.js';
export type { Backend, BackendName } from './backend.js';
export { type ServerLine, serverLine } from './binaries.js';
export { type ClusterNodeInfo, type ClusterOptions, type RedisCluster, startCluster } from './cluster.js';
export { connectWith, type IoredisModule } from './connect-with.js';
export { HarnessError, RedisServerNotFoundError } from './errors.js';
export { type ExternalServers, externalServers } from './external.js';
export { keysOf, seededRandom } from './inspect.js';
export type { RedisNode } from './node.js';
export { startReplicated } from './replicated.js';
export type {
  FailoverOptions,
  FailoverResult,
  ReplicatedRedis,
  ResyncOptions,
  ResyncResult,
} from './replication.js';
export { type RedisSentinel, type SentinelOptions, startSentinel } from './sentinel.js';
export { untilServed } from './served.js';
export { type ClientOptions, type StandaloneOptions, type StandaloneRedis, startStandalone } from './standalone.js';
export {
  type EventuallyOptions,
  eventually,
  type NextEventOptions,
  nextEvent,
  sleep,
  type WaitForOptions,
  waitFor,
} from './wait.js';
