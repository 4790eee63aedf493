import { type CallOptions, InvalidOptionsError, Keyspace, type RedisDriver, warnIfEvictable } from '@redkit/core';
import { partitionOf, partitionStreams } from '@redkit/queue';
import type { StandardSchema } from './options.js';
import { writeBehindEntry } from './scripts.js';
import { type EncodedPayload, encodePayload, jsonSerializer, type Serializer } from './serializer.js';
import type { ResolvedWriteBehindOptions } from './write-behind-options.js';

/** The options `createWriteBehindLog` reads (a resolved `CacheOptions`). */
interface CacheSettings {
  readonly namespace: string;
  readonly writeBehind: ResolvedWriteBehindOptions | false;
  readonly serializer?: Serializer | undefined;
  readonly schema?: StandardSchema | undefined;
}

/**
 * The write-behind log of a cache, or undefined without `writeBehind`.
 * (`Cache` refuses key replicas with it: copies live under other hash tags,
 * so they could not be written in the write's atomic step.)
 */
export function createWriteBehindLog(options: CacheSettings): WriteBehindLog | undefined {
  if (options.writeBehind === false) return undefined;
  return new WriteBehindLog(
    options.namespace,
    options.writeBehind,
    options.serializer ?? jsonSerializer,
    options.schema,
  );
}

/** One write to record: the entry to store and the message the flusher reads. */
export interface RecordedWrite {
  readonly key: string;
  readonly entryKey: string;
  /** The key's load lease (a delete's tombstone outlives it). */
  readonly leaseKey: string;
  /** The serialized value, or undefined for a delete. */
  readonly payload: EncodedPayload | undefined;
  /** The serializer's text when the payload is gzipped; undefined when the payload is that text. */
  readonly plain: string | undefined;
  /** Fresh for (a tombstone: how long it stays), ms. */
  readonly ttl: number;
  readonly grace: number;
  readonly tags: string;
  readonly channel: string;
  /** The shard channel to announce the write on, or '' (see announce.lua). */
  readonly shardChannel: string;
}

/**
 * The write-behind log of a cache: `partitions` streams of @redkit/queue
 * under the namespace `<cache namespace>:write-behind`. A key's entry lives
 * under its partition's hash tag, so one script stores the entry and appends
 * the write to the stream (see `write-behind-entry.lua`).
 *
 * Stream messages are JSON: `{ key, version, value }` when the cache
 * serializes with JSON, `{ key, version, text }` (the serializer's text) with
 * another serializer, `{ key, version, deleted: true }` for a delete.
 */
export class WriteBehindLog {
  /** The queue namespace of the partition streams. */
  readonly queueNamespace: string;
  /** The partition streams' names, by partition. */
  readonly streams: readonly string[];
  /** The cache's serializer: the flusher decodes `text` messages with it. */
  readonly serializer: Serializer;
  /** The cache's schema: values are checked on write, and the flusher hands the sink its output. */
  readonly schema: StandardSchema | undefined;
  private readonly queueKeys: Keyspace;
  private warned = false;

  constructor(
    namespace: string,
    options: ResolvedWriteBehindOptions,
    serializer: Serializer,
    schema: StandardSchema | undefined,
  ) {
    this.schema = schema;
    this.queueNamespace = `${namespace}:write-behind`;
    this.queueKeys = new Keyspace(this.queueNamespace);
    this.streams = partitionStreams(options.stream, options.partitions);
    this.serializer = serializer;
  }

  /** The partition stream (also the hash-tag subject of the key's entry and lease). */
  streamOf = (key: string): string => this.streams[partitionOf(key, this.streams.length)] as string;

  /** The stream key, as @redkit/queue's `StreamQueue` names it. */
  streamKey(stream: string): string {
    return this.queueKeys.key(stream, 'stream');
  }

  /**
   * Checks a value against the cache's schema and serializes it for the entry
   * and the message; a value that fails either is an InvalidOptionsError
   * naming `value`, before any write (the flusher would only dead-letter it).
   */
  async encode(
    value: unknown,
    compressAbove: number | undefined,
    context: string,
  ): Promise<Pick<RecordedWrite, 'payload' | 'plain'>> {
    const invalid = (message: string, cause?: unknown) =>
      new InvalidOptionsError([{ path: 'value', message }], { context, cause });
    if (value === undefined) throw invalid('must not be undefined (use writeBehindDelete to delete)');
    let encoded: Pick<RecordedWrite, 'payload' | 'plain'> & { payload: EncodedPayload };
    try {
      const payload = encodePayload(value, this.serializer, compressAbove, 'value');
      // The message carries the serializer's text, never gzipped: serialized again only for large values.
      encoded = { payload, plain: payload.compressed ? this.serializer.serialize(value) : undefined };
    } catch (error) {
      // The serializer's own words (encodePayload wraps them for the other callers).
      const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
      throw invalid(`cannot be serialized: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
    }
    if (this.schema) {
      // Checked as readers and the flusher will see it: decoded from its text.
      const result = await this.validate(this.serializer.deserialize(encoded.plain ?? encoded.payload.text));
      if (!result.ok) throw invalid(`fails the cache's schema: ${result.issues}`);
    }
    return encoded;
  }

  /** The schema's output for a value, or its issues as text (the value itself without a schema). */
  async validate(value: unknown): Promise<{ ok: true; value: unknown } | { ok: false; issues: string }> {
    if (!this.schema) return { ok: true, value };
    let result = this.schema['~standard'].validate(value);
    if (result instanceof Promise) result = await result;
    if (result.issues) return { ok: false, issues: result.issues.map((issue) => issue.message).join('; ') };
    return { ok: true, value: result.value };
  }

  /** Stores the entry (or tombstone) and appends the write to its partition, atomically; resolves the version. */
  append(driver: RedisDriver, write: RecordedWrite, call: CallOptions | undefined): Promise<number> {
    if (!this.warned) {
      this.warned = true;
      // An evicted stream loses writes that were never flushed.
      void warnIfEvictable(driver, 'cache write-behind');
    }
    const stream = this.streamOf(write.key);
    const head = `{"key":${JSON.stringify(write.key)},"version":`;
    let flags = 'd';
    let tail = ',"deleted":true}';
    if (write.payload) {
      flags = write.payload.compressed ? 'z' : '';
      const plain = write.plain ?? write.payload.text;
      if (this.serializer !== jsonSerializer) tail = `,"text":${JSON.stringify(plain)}}`;
      else tail = write.plain === undefined ? '' : `,"value":${plain}}`;
    }
    return driver.script(
      writeBehindEntry,
      [write.entryKey, this.streamKey(stream), this.queueKeys.key(stream, 'version'), write.leaseKey],
      [
        flags,
        write.ttl,
        write.grace,
        write.tags,
        write.payload?.text ?? '',
        write.channel,
        head,
        tail,
        write.shardChannel,
      ],
      call,
    );
  }
}
