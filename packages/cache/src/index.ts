export { Cache, type CacheHotKey, type Loader, type LoaderContext, type ManyLoader, type ValueOf } from './cache.js';
export { errors, LoaderTimeoutError, UnserializableValueError, WriteThroughError } from './errors.js';
export type { CacheEvents, CacheTier } from './events.js';
export {
  type CacheOptions,
  cacheOptionsSchema,
  type GetOrSetOptions,
  getOrSetOptionsSchema,
  type OutputOf,
  type StandardSchema,
  type WriteOptions,
  writeOptionsSchema,
} from './options.js';
export { jsonSerializer, type Serializer, type SuperJsonLike, superjsonSerializer } from './serializer.js';
export { SinkTimeoutError, type WriteBehindEvents, WriteBehindFlusher } from './write-behind-flusher.js';
export {
  type FlusherOptions,
  flusherOptionsSchema,
  type WriteBehindOptions,
  type WriteBehindSink,
  type WriteBehindWrite,
  writeBehindSchema,
} from './write-behind-options.js';
