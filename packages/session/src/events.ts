/** Telemetry events of a `SessionStore`. */
export type SessionEvents = {
  /** A session was created (`create`, or a framework store's first save). */
  created: { userId: string | null };
  /** A session moved to a new id (`rotate`). */
  rotated: { userId: string | null };
  /** Sessions were destroyed (`destroy`, `destroyAll`). */
  destroyed: { count: number; userId?: string };
  /** A versioned `update` found a newer version and wrote nothing. */
  conflict: { version: number };
  /** Stored data failed the schema on a read; the session was treated as absent. */
  'invalid-data': { error: string };
  /** A write to a destroyed id was refused (e.g. a request still in flight after "log out everywhere"). */
  'write-refused': { reason: 'destroyed' };
};
