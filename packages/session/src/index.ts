export { errors, InvalidSessionDataError, SessionWriteRefusedError } from './errors.js';
export type { SessionEvents } from './events.js';
export {
  type AnySessionData,
  type DataInputOf,
  type DataOf,
  type DataPatchOf,
  type GetOptions,
  getOptionsSchema,
  type PutOptions,
  putOptionsSchema,
  type SessionSchema,
  type SessionStoreOptions,
  sessionStoreOptionsSchema,
  type TouchOptions,
  touchOptionsSchema,
  type UpdateOptions,
  updateOptionsSchema,
} from './options.js';
export type { PutResult, Session, SessionInfo, StoredSession, UpdateResult } from './session-info.js';
export { SessionStore } from './session-store.js';
