import type { RedisConnection } from '@redkit/core';
import { SessionStore } from '@redkit/session';
import type { ServiceConfig } from '../config.js';
import { checkPassword, type Database } from '../db.js';

export interface User {
  id: string;
  role: 'user' | 'admin';
}

/**
 * Users (in SQL) and their sessions (in Redis). Sessions live in Redis so any
 * instance of the web tier can answer any request, and are indexed by user,
 * so "log out everywhere" needs no scan.
 */
export class Accounts {
  readonly sessions;

  constructor(
    redis: RedisConnection,
    private readonly db: Database,
    config: ServiceConfig,
  ) {
    this.sessions = new SessionStore({
      redis,
      namespace: `${config.namespace}:sessions`,
      ttl: '30m',
      // No activity extends a session past this.
      absoluteTtl: '12h',
    });
  }

  /** The user when the password matches, else undefined (which one was wrong is not told). */
  async authenticate(username: string, password: string): Promise<User | undefined> {
    const [row] = await this.db.query<{ id: string; password_hash: string; role: User['role'] }>(
      'SELECT id, password_hash, role FROM users WHERE id = $1',
      [username],
    );
    if (!row || !(await checkPassword(password, row.password_hash))) return undefined;
    return { id: row.id, role: row.role };
  }

  /** Ends every session of the user, on every device; returns how many there were. */
  async logoutEverywhere(userId: string): Promise<number> {
    return this.sessions.destroyAll(userId);
  }

  async devices(userId: string): Promise<number> {
    return (await this.sessions.list(userId)).length;
  }
}
