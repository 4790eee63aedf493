/**
 * `@redkit/cache/keyv`: a Keyv storage adapter, so Keyv and cache-manager keep
 * their API on redkit's cluster-safe Redis layout.
 *
 * @packageDocumentation
 */
export { type KeyvStoreOptions, keyvStoreOptionsSchema } from './keyv-options.js';
export { type KeyvStoreEntry, RedkitKeyvStore } from './keyv-store.js';
