import {
  type CallOptions,
  InvalidOptionsError,
  Keyspace,
  type PipelineCommand,
  type RedisConnection,
  type RedisDriver,
  RedisUnavailableError,
  RedkitError,
  startPattern,
  waitForReplicas,
} from '@redkit/core';
import type { Cluster } from 'ioredis';
import { NotReplicatedError } from './errors.js';
import {
  incrementSchema,
  type ResolvedShardedCounterOptions,
  type ShardedCounterOptions,
  shardedCounterOptionsSchema,
} from './options.js';
import { groupByNodes, spreadTags } from './spread.js';

/** Replies that mean the slot map changed under a read: reading again is safe and will succeed. */
const movedReply = /MOVED|ASK|TRYAGAIN|CLUSTERDOWN|allocation group/;

/**
 * A counter for write-hot totals (a global view count, a global event rate)
 * split into `shards` keys spread over the cluster's masters, so no single
 * master takes every write.
 *
 * - `increment(by)` adds to one shard chosen at random: one command, one
 *   round trip, on one master.
 * - `value()` sums every shard with one round trip per master (the shard keys
 *   each master serves go in one pipeline), in parallel.
 *
 * Shard keys are `<namespace>:{<name>#<j>}:c`, their hash tags from
 * {@link spreadTags}. The sum is exact (every increment lands in exactly one
 * shard) but not a snapshot: increments that run during `value()` may or may
 * not be included. It is no substitute for one atomic counter where a decision
 * must be exact at a bound (e.g. "deny the 101st request").
 *
 * @example
 * ```ts
 * const views = new ShardedCounter({ redis, name: 'views:home', shards: 12 })
 * await views.increment()
 * await views.value() // 1
 * ```
 */
export class ShardedCounter {
  /** The parsed options. */
  readonly options: Readonly<ResolvedShardedCounterOptions>;
  /** The shard keys, in slot-range order. */
  readonly keys: readonly string[];
  private readonly redis: RedisConnection;
  private readonly driver: RedisDriver;
  private readonly call: CallOptions | undefined;

  constructor(options: ShardedCounterOptions) {
    // Shards are data: an evicted shard silently lowers the total, so warn once if the server may.
    ({
      options: this.options,
      driver: this.driver,
      call: this.call,
    } = startPattern(shardedCounterOptionsSchema, options, {
      context: 'ShardedCounter',
      evictable: 'sharded counter',
    }));
    const { redis, name, namespace, shards } = this.options;
    const keyspace = new Keyspace(namespace);
    this.keys = Object.freeze(spreadTags(name, shards).map((tag) => keyspace.key(tag, 'c')));
    this.redis = redis;
  }

  /**
   * Adds `by` (a safe integer; negative subtracts) to one shard chosen at
   * random. One round trip. Never re-sent: on a timeout
   * (`RedisUnavailableError` with `timedOut`) it may or may not have been
   * applied. With `waitForReplicas`, throws {@link NotReplicatedError} when too
   * few replicas acknowledged it (it was applied on the master).
   * @default by 1
   */
  async increment(by = 1): Promise<void> {
    if (!incrementSchema.safeParse(by).success) {
      throw new InvalidOptionsError([{ path: 'by', message: 'must be a safe integer' }], { context: 'increment()' });
    }
    const key = this.keys[Math.floor(Math.random() * this.keys.length)] as string;
    const { ttl, waitForReplicas: wanted, waitTimeout, timeout } = this.options;
    const commands: PipelineCommand[] = [['INCRBY', key, by]];
    if (ttl !== undefined) commands.push(['PEXPIRE', key, ttl, 'NX']);
    if (wanted > 0) {
      // One round trip: the shard key routes the pipeline, WAIT included, to the shard's master.
      const { acknowledged } = await waitForReplicas(
        this.driver,
        commands,
        { count: wanted, timeout: waitTimeout },
        timeout ?? this.driver.timeoutMs,
      );
      if (acknowledged < wanted) throw new NotReplicatedError(acknowledged, wanted);
    } else if (commands.length === 1) {
      await this.driver.command('INCRBY', [key, by], this.call);
    } else {
      for (const [error] of await this.driver.pipeline(commands, this.call)) if (error) throw error;
    }
  }

  /**
   * The sum of all shards: one round trip per master, in parallel (one
   * `MGET` on a standalone server). Read-only, so a read that met a changing
   * slot map (a failover, a resharding) is retried.
   */
  async value(): Promise<number> {
    const values = await this.readAll();
    let sum = 0;
    for (const value of values) sum += value === null ? 0 : Number(value);
    return sum;
  }

  /** Deletes every shard (one round trip per master): the value is 0 again. */
  async reset(): Promise<void> {
    await this.perNode((keys) => keys.map((key) => ['DEL', key] as const));
  }

  private async readAll(): Promise<(string | null)[]> {
    if (this.driver.topology === 'standalone') {
      return await this.driver.command<(string | null)[]>('MGET', this.keys, this.call);
    }
    return (await this.perNode((keys) => keys.map((key) => ['GET', key] as const))) as (string | null)[];
  }

  /** Reloads a cluster client's slot map; resolves when done, failed, or after the call timeout. */
  private async refreshSlotMap(): Promise<void> {
    const cluster = this.redis as Cluster;
    if (typeof cluster.refreshSlotsCache !== 'function') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.call?.timeoutMs ?? this.driver.timeoutMs);
      cluster.refreshSlotsCache(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Sends one pipeline per group of keys served by the same nodes; returns the replies in key order. */
  private async perNode(build: (keys: string[]) => PipelineCommand[]): Promise<unknown[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const groups = await groupByNodes(this.redis, this.keys);
        const results = new Array<unknown>(this.keys.length);
        await Promise.all(
          groups.map(async (group) => {
            const replies = await this.driver.pipeline(build(group.keys), this.call);
            replies.forEach(([error, result], index) => {
              if (error) throw error;
              results[group.indexes[index] as number] = result;
            });
          }),
        );
        return results;
      } catch (error) {
        const retry =
          attempt < 4 &&
          error instanceof RedkitError &&
          !(error instanceof RedisUnavailableError && error.timedOut) &&
          movedReply.test(error.message);
        if (!retry) throw error;
        // A pipeline whose commands were redirected to different slots is not
        // followed by ioredis, nor does it refresh the slot map: ask for it.
        await this.refreshSlotMap();
      }
    }
  }
}
