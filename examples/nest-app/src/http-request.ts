import type { Request } from 'express';

/** What this app keeps in a session (express-session's `req.session`). */
export interface AppSession {
  /** The logged-in user: the session store indexes sessions by it ("log out everywhere"). */
  userId?: string;
  /** Requests seen in this session. */
  visits?: number;
}

/** express-session's `req.session` with the app's fields typed (what `@Session()` gives a handler). */
export type AppRequestSession = Request['session'] & AppSession;

/** The request with the app's session fields typed. */
export type AppRequest = Request & { session: AppRequestSession };
