import { Keyspace } from '@redkit/core';
import { tagOf } from './session-id.js';

/**
 * Where a store keeps things:
 * - `<ns>:{<tag>}:s:<id>`: the session (a hash), tagged by its id's first characters;
 * - `<ns>:{<tag>}:x:<id>`: the tombstone of a destroyed id, in the same slot;
 * - `<ns>:{<user id>}:u`: the user's index, a sorted set of session ids by absolute deadline.
 */
export class SessionKeys {
  private readonly keyspace: Keyspace;

  constructor(namespace: string) {
    this.keyspace = new Keyspace(namespace);
  }

  get namespace(): string {
    return this.keyspace.namespace;
  }

  session(id: string): string {
    return this.keyspace.key(tagOf(id), 's', id);
  }

  tombstone(id: string): string {
    return this.keyspace.key(tagOf(id), 'x', id);
  }

  userIndex(userId: string): string {
    return this.keyspace.key(userId, 'u');
  }

  /** SCAN pattern of every session hash of this namespace (for framework stores' `all`/`length`/`clear`). */
  sessionPattern(): string {
    return `${this.keyspace.namespace}:{*}:s:*`;
  }
}
