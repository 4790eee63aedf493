export { errors, SnapshotExpiredError, UnknownMemberError } from './errors.js';
export type { GeoEvents } from './events.js';
export { GeoIndex } from './geo-index.js';
export type { GeoMember, GeoResult, GeoSnapshot } from './geo-results.js';
export {
  type Box,
  type GeoIndexOptions,
  type GeoPoint,
  geoIndexOptionsSchema,
  type MetadataInputOf,
  type MetadataOf,
  type MetadataSchema,
  maxLatitude,
  type NearOptions,
  nearOptionsSchema,
  type Origin,
  type PageOptions,
  pageOptionsSchema,
  type SnapshotOptions,
  snapshotOptionsSchema,
  type Unit,
  type WithinOptions,
  type WriteOptions,
  withinOptionsSchema,
} from './options.js';
