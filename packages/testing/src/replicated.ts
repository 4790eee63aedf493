import { type ClusterOptions, startCluster } from './cluster.js';
import type { ReplicatedRedis } from './replication.js';
import { type SentinelOptions, startSentinel } from './sentinel.js';

/**
 * Starts a Sentinel setup (a primary, a replica, 3 sentinels) or a cluster
 * (3 masters with a replica each): a fault test written once against
 * {@link ReplicatedRedis} runs on both deployments.
 *
 * @example
 * ```ts
 * describe.each(['sentinel', 'cluster'] as const)('a failover (%s)', (kind) => {
 *   let redis: ReplicatedRedis
 *   beforeAll(async () => { redis = await startReplicated(kind) })
 *   afterAll(() => redis?.stop())
 *   it('keeps the key', async () => {
 *     await redis.failover(await redis.masterOf('k'))
 *   })
 * })
 * ```
 */
export function startReplicated(
  kind: 'sentinel' | 'cluster',
  options: { sentinel?: SentinelOptions; cluster?: ClusterOptions } = {},
): Promise<ReplicatedRedis> {
  return kind === 'sentinel' ? startSentinel(options.sentinel) : startCluster(options.cluster);
}
