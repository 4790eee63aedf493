import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';

declare module 'express-session' {
  interface SessionData {
    /** Read by RedkitSessionStore to index the session under its user ("log out everywhere"). */
    // Optional: this declaration merges into every SessionData of the type-check (bench's too).
    userId?: string;
    role?: 'user' | 'admin';
  }
}

/** An error with the HTTP status to answer it with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses request input with a zod schema; a mismatch is a 400 naming the field. */
export function parse<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpError(400, `${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** The logged-in user's id; 401 without a session. */
export function userOf(req: Request): string {
  const userId = req.session.userId;
  if (!userId) throw new HttpError(401, 'log in first');
  return userId;
}

export function requireUser(req: Request, _res: Response, next: NextFunction): void {
  userOf(req);
  next();
}

export function requireAdmin(req: Request, _res: Response, next: NextFunction): void {
  userOf(req);
  if (req.session.role !== 'admin') throw new HttpError(403, 'admins only');
  next();
}

/** Last in the chain: known errors become their status, the rest a 500 (logged). */
export function errorHandler(error: unknown, _req: Request, res: Response, _next: NextFunction): void {
  if (res.headersSent) return;
  if (error instanceof HttpError) {
    res.status(error.status).json({ error: error.message });
    return;
  }
  // Redis unreachable is an outage to alert on, not a bug: one line, and 503 so clients retry later.
  if ((error as { code?: string }).code === 'E_REDIS_UNAVAILABLE') {
    console.error(`request failed: ${(error as Error).message}`);
    res.status(503).json({ error: 'temporarily unavailable' });
    return;
  }
  console.error('request failed:', error);
  res.status(500).json({ error: 'internal error' });
}

export const idParam = z.coerce.number().int().positive();
