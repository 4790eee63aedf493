export { type AclUser, type AclUserOptions, createAclUser } from './acl.js';
export type { Backend, BackendName } from './backend.js';
export { type ServerLine, serverLine } from './binaries.js';
export {
  type ClusterNodeInfo,
  type ClusterOptions,
  type FailoverOptions,
  type FailoverResult,
  type RedisCluster,
  type ResyncOptions,
  type ResyncResult,
  startCluster,
} from './cluster.js';
export { HarnessError, RedisServerNotFoundError } from './errors.js';
export { type ExternalServers, externalServers } from './external.js';
export { keysOf, seededRandom } from './inspect.js';
export type { RedisNode } from './node.js';
export { untilServed } from './served.js';
export { type ClientOptions, type StandaloneOptions, type StandaloneRedis, startStandalone } from './standalone.js';
