import { defineScript, escapeKeyPart } from '@redkit/core';
import { spreadTags } from '@redkit/hotkeys';
import { LRUCache } from 'lru-cache';
import setReplicaSource from './scripts/set-replica.lua';

/** `1` written, `0` refused (the copy already holds this version or a newer one). */
export const setReplica = defineScript<number>('set-replica', setReplicaSource);

/**
 * Where the copies of a replicated namespace live. Each key has a primary
 * entry (`<ns>:{<key>}:e`, which keeps the load lease and is the authority)
 * and `count` copies `<ns>:{<tag>}:r<count>` whose hash tags come from
 * `spreadTags(key, count)`: each tag's slot lies in its own 1/count of the
 * slot space, so on a cluster of M masters (count a multiple of M) every
 * master holds count/M copies. The count is part of the copy key, so a deploy
 * that changes it never reads copies written with another count.
 */
export class ReplicaKeys {
  private readonly prefix: string;
  private readonly suffix: string;
  /** Copy keys by application key: spreadTags searches for suffixes, so its answers are kept. */
  private readonly known = new LRUCache<string, readonly string[]>({ max: 10_000 });

  constructor(
    namespace: string,
    schemaPart: string | undefined,
    /** Copies per key. */
    readonly count: number,
  ) {
    this.prefix = `${namespace}:{`;
    this.suffix = `}:r${count}${schemaPart === undefined ? '' : `:${schemaPart}`}`;
  }

  /** Every copy key of `key`, one per spread tag. */
  all(key: string): readonly string[] {
    let keys = this.known.get(key);
    if (keys === undefined) {
      // spreadTags computed each tag's slot on its escaped form, as it appears between the braces.
      keys = spreadTags(key, this.count).map((tag) => `${this.prefix}${escapeKeyPart(tag)}${this.suffix}`);
      this.known.set(key, keys);
    }
    return keys;
  }

  /** One copy key of `key`, chosen at random, so reads spread evenly over the copies' masters. */
  pick(key: string): string {
    const keys = this.all(key);
    return keys[Math.floor(Math.random() * keys.length)] as string;
  }
}

/**
 * The newest version of each key this instance has seen: read, written, or
 * announced by an invalidation. Copies and replicas are written after the
 * primary entry, so one may be behind; a read that brings an older version
 * than the floor goes to the primary entry instead, and the instance never
 * goes back to an older value than one it has already seen. Bounded (LRU);
 * a key evicted from here loses that guarantee only for copies still behind
 * (the consistency window, milliseconds after a write).
 */
export class VersionFloors {
  private readonly floors = new LRUCache<string, number>({ max: 100_000 });

  get(key: string): number {
    return this.floors.get(key) ?? 0;
  }

  raise(key: string, version: number): void {
    const floor = this.floors.get(key);
    if (floor === undefined || floor < version) this.floors.set(key, version);
  }
}
