import { Keyspace } from '@redkit/core';

/** The keys of one stream; all share the hash tag `{<stream>}`, so every script touches one slot. */
export class QueueKeys {
  readonly namespace: string;
  /** The stream of messages. */
  readonly stream: string;
  /** Sorted set of retries waiting for their time: `<entry id>/<group>` → due (ms, Redis clock). */
  readonly delayed: string;
  /** Hash of the waiting retries' payloads: `<entry id>/<group>` → JSON. */
  readonly delayedData: string;
  /** The dead-letter stream. */
  readonly dead: string;
  private readonly keyspace: Keyspace;
  private readonly name: string;

  constructor(namespace: string, stream: string) {
    this.keyspace = new Keyspace(namespace);
    this.namespace = this.keyspace.namespace;
    this.name = stream;
    this.stream = this.keyspace.key(stream, 'stream');
    this.delayed = this.keyspace.key(stream, 'delayed');
    this.delayedData = this.keyspace.key(stream, 'delayed-data');
    this.dead = this.keyspace.key(stream, 'dead');
  }

  /** Remembers the first add of an idempotency key. */
  dedupe(idempotencyKey: string): string {
    return this.keyspace.key(this.name, 'dedupe', idempotencyKey);
  }
}
