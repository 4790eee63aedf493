import { Keyspace, unescapeKeyPart } from '@redkit/core';

/**
 * Where a cache keeps things. Each application key is its own hash tag, so an
 * entry and its load lease share a slot:
 * - `<ns>:{<key>}:e` (or `:e:<schemaVersion>`): the entry;
 * - `<ns>:{<key>}:lease`: who is loading it;
 * - `<ns>:{<tag>}:tag`: a tag's version.
 */
export class CacheKeys {
  private readonly keyspace: Keyspace;
  private readonly entryPart: string[];
  /** Pub/sub channel of this namespace's invalidations. */
  readonly channel: string;
  /** Write-behind: the hash-tag subject of a key (its partition stream), so an entry shares a slot with it. */
  private readonly subjectOf: ((key: string) => string) | undefined;

  /**
   * With `subjectOf` (write-behind), a key lives under its partition's tag:
   * `<ns>:{<subject>}:e[:<schemaVersion>]:<key>` and `<ns>:{<subject>}:lease:<key>`.
   */
  constructor(namespace: string, schemaVersion: string | undefined, subjectOf?: (key: string) => string) {
    this.subjectOf = subjectOf;
    this.keyspace = new Keyspace(namespace);
    this.entryPart = schemaVersion === undefined ? ['e'] : ['e', schemaVersion];
    this.channel = `${this.keyspace.namespace}:invalidations`;
  }

  get namespace(): string {
    return this.keyspace.namespace;
  }

  entry(key: string): string {
    if (this.subjectOf) return this.keyspace.key(this.subjectOf(key), ...this.entryPart, key);
    return this.keyspace.key(key, ...this.entryPart);
  }

  /** The application key of an entry key of this cache (undefined for any other key). */
  keyOf(entryKey: string): string | undefined {
    const head = `${this.keyspace.namespace}:{`;
    if (this.subjectOf) {
      // Escaped parts hold no `}` or `:`: the key is what follows `}:<entry part>:`.
      if (!entryKey.startsWith(head)) return undefined;
      const close = entryKey.indexOf('}', head.length);
      const middle = `}:${this.entryPart.join(':')}:`;
      if (close < 0 || !entryKey.startsWith(middle, close)) return undefined;
      return unescapeKeyPart(entryKey.slice(close + middle.length));
    }
    const tail = `}:${this.entryPart.join(':')}`;
    if (!entryKey.startsWith(head) || !entryKey.endsWith(tail)) return undefined;
    return unescapeKeyPart(entryKey.slice(head.length, entryKey.length - tail.length));
  }

  lease(key: string): string {
    if (this.subjectOf) return this.keyspace.key(this.subjectOf(key), 'lease', key);
    return this.keyspace.key(key, 'lease');
  }

  tag(tag: string): string {
    return this.keyspace.key(tag, 'tag');
  }

  /** SCAN pattern of every key of the namespace. */
  pattern(): string {
    return this.keyspace.pattern();
  }
}
