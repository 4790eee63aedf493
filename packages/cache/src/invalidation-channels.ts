import { keySlot } from '@redkit/core';
import type { Cluster } from 'ioredis';

/** Slots per anchor bucket: 128 buckets, so every master of up to 128 even shards serves at least one anchor. */
const bucketBits = 7;
const buckets = 16_384 >> bucketBits;

let anchorTags: readonly string[] | undefined;

/**
 * One hash tag per bucket of 128 slots: the first base-36 counter whose slot
 * falls in that bucket. Every process computes the same list, so publishers
 * and subscribers agree on the channel names without asking Redis.
 */
function anchors(): readonly string[] {
  if (anchorTags) return anchorTags;
  const tags: string[] = new Array(buckets);
  let found = 0;
  for (let counter = 0; found < buckets; counter++) {
    const tag = counter.toString(36);
    const bucket = keySlot(tag) >> bucketBits;
    if (tags[bucket] === undefined) {
      tags[bucket] = tag;
      found++;
    }
  }
  anchorTags = tags;
  return tags;
}

/**
 * The sharded invalidation channels of a namespace on a cluster (Redis ≥ 7).
 *
 * Classic PUBLISH on a cluster reaches other nodes' subscribers over the
 * cluster bus, which adds milliseconds to tens of milliseconds. Instead, each
 * master gets shard channels (`<channel>:{<anchor tag>}`, one per 128-slot
 * bucket whose anchor slot it serves), every subscriber subscribes to all of
 * them (placed on each anchor's master, moved on failover by @redkit/queue's
 * hub), and a script publishes on an anchor channel served by its own node
 * with SPUBLISH: a script may publish to any channel whose slot its node
 * serves, so the message leaves the node that made the write straight to
 * the subscribers. When the client's slot map is stale, or nobody hears that
 * channel, the script falls back to the classic channel (see announce.lua).
 */
export class ShardChannels {
  /** Every shard channel, one per bucket (what subscribers subscribe to). */
  readonly all: readonly string[];
  private readonly anchorSlots: readonly number[];

  constructor(
    classicChannel: string,
    private readonly cluster: Cluster,
  ) {
    const tags = anchors();
    this.all = tags.map((tag) => `${classicChannel}:{${tag}}`);
    this.anchorSlots = tags.map((tag) => keySlot(tag));
  }

  /**
   * The shard channel to announce a write of `redisKey` on: an anchor served
   * by the master of the key's slot (per this client's slot map), or '' when
   * that master serves no anchor or the map does not know the slot yet (the
   * classic channel is used then).
   */
  for(redisKey: string): string {
    const slots = this.cluster.slots;
    const slot = keySlot(redisKey);
    const owner = slots[slot]?.[0];
    if (owner === undefined) return '';
    // Masters serve ranges of slots: the key's own bucket is almost always served by the same master.
    const own = slot >> bucketBits;
    if (slots[this.anchorSlots[own] as number]?.[0] === owner) return this.all[own] as string;
    for (let bucket = 0; bucket < buckets; bucket++) {
      if (slots[this.anchorSlots[bucket] as number]?.[0] === owner) return this.all[bucket] as string;
    }
    return '';
  }
}
