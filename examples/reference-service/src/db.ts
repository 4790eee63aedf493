import { randomBytes, scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** What a query needs: SQL with `$1`-style parameters, rows back. */
export interface Queryable {
  query<Row extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

/**
 * The one seam between the service and its SQL database, so the same code
 * runs on PostgreSQL (production, CI with `DATABASE_URL`) and on embedded
 * PGlite (the demo, laptops without Postgres).
 */
export interface Database extends Queryable {
  /** `postgres` or `pglite`: shown on the dashboard. */
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; without one, an in-memory PGlite is used. */
  url?: string | undefined;
  /**
   * PostgreSQL only: create the tables in this schema, and drop it on
   * `close()` when `dropOnClose` is set (tests share one database).
   */
  schema?: string;
  dropOnClose?: boolean;
}

/** Opens the database and creates the tables and seed data if they are missing. */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  const db = options.url ? await openPostgres(options.url, options) : await openPglite();
  await migrate(db);
  return db;
}

async function openPglite(): Promise<Database> {
  // In memory: the demo starts from the seed data every time.
  const lite = await PGlite.create();
  return {
    kind: 'pglite',
    query: async <Row extends object>(sql: string, params?: unknown[]) => (await lite.query<Row>(sql, params)).rows,
    transaction: (fn) =>
      lite.transaction((tx) =>
        fn({
          query: async <Row extends object>(sql: string, params?: unknown[]) => (await tx.query<Row>(sql, params)).rows,
        }),
      ),
    close: () => lite.close(),
  };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name: ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  // A small pool: the workers' semaphore, not the pool, is what keeps load off the database.
  const pool = new pg.Pool({
    connectionString: url,
    max: 5,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  const run = (client: pg.Pool | pg.PoolClient) => ({
    query: async <Row extends object>(sql: string, params?: unknown[]) =>
      (await client.query<Row & pg.QueryResultRow>(sql, params)).rows as Row[],
  });
  return {
    kind: 'postgres',
    ...run(pool),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(run(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      if (schema && options.dropOnClose) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    },
  };
}

const scryptAsync = promisify(scrypt) as (password: string, salt: string, length: number) => Promise<Buffer>;

/**
 * scrypt with a per-user salt (the seed users' passwords are all "password").
 * Asynchronous: scrypt is slow on purpose, and must not stall the event loop
 * (a stalled loop makes every Redis call of the process time out).
 */
export async function hashPassword(password: string, salt = randomBytes(16).toString('hex')): Promise<string> {
  return `${salt}:${(await scryptAsync(password, salt, 32)).toString('hex')}`;
}

export async function checkPassword(password: string, stored: string): Promise<boolean> {
  const [salt] = stored.split(':');
  return salt !== undefined && (await hashPassword(password, salt)) === stored;
}

/** Seed stores around central Paris, so "nearby" has something to find. */
export const seedStores = [
  { id: 1, name: 'Louvre', lon: 2.3376, lat: 48.8606 },
  { id: 2, name: 'Bastille', lon: 2.3692, lat: 48.8532 },
  { id: 3, name: 'Montmartre', lon: 2.3431, lat: 48.8867 },
  { id: 4, name: 'Tour Eiffel', lon: 2.2945, lat: 48.8584 },
  { id: 5, name: 'La Défense', lon: 2.2361, lat: 48.8918 },
  { id: 6, name: 'Versailles', lon: 2.1204, lat: 48.8049 },
] as const;

export const seedUsers = ['admin', 'ana', 'ben', 'cho', 'dee', 'eve', 'fay', 'gus'] as const;

/** Product 13 is discontinued: orders for it fail in the worker and end in the dead letters. */
export const discontinuedProductId = 13;

async function migrate(db: Database): Promise<void> {
  for (const statement of [
    `CREATE TABLE IF NOT EXISTS products (
      id integer PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL,
      stock integer NOT NULL, discontinued boolean NOT NULL DEFAULT false)`,
    `CREATE TABLE IF NOT EXISTS users (
      id text PRIMARY KEY, password_hash text NOT NULL, role text NOT NULL DEFAULT 'user')`,
    `CREATE TABLE IF NOT EXISTS stores (
      id integer PRIMARY KEY, name text NOT NULL, lon double precision NOT NULL, lat double precision NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS scores (
      user_id text NOT NULL REFERENCES users(id), score integer NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS orders (
      id uuid PRIMARY KEY, user_id text NOT NULL, product_id integer NOT NULL, quantity integer NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now())`,
  ]) {
    await db.query(statement);
  }
  const [{ count }] = (await db.query<{ count: number }>('SELECT count(*)::int AS count FROM products')) as [
    { count: number },
  ];
  if (count > 0) return;
  await db.transaction(async (tx) => {
    for (let id = 1; id <= 50; id++) {
      await tx.query('INSERT INTO products (id, name, price_cents, stock, discontinued) VALUES ($1, $2, $3, $4, $5)', [
        id,
        `Product ${id}`,
        100 * id + 99,
        1_000_000,
        id === discontinuedProductId,
      ]);
    }
    // One hash for all seed users: scrypt is deliberately slow.
    const hash = await hashPassword('password');
    for (const user of seedUsers) {
      await tx.query('INSERT INTO users (id, password_hash, role) VALUES ($1, $2, $3)', [
        user,
        hash,
        user === 'admin' ? 'admin' : 'user',
      ]);
    }
    for (const store of seedStores) {
      await tx.query('INSERT INTO stores (id, name, lon, lat) VALUES ($1, $2, $3, $4)', [
        store.id,
        store.name,
        store.lon,
        store.lat,
      ]);
    }
    let score = 1_000;
    for (const user of seedUsers.slice(1)) {
      await tx.query('INSERT INTO scores (user_id, score) VALUES ($1, $2)', [user, score]);
      score -= 90;
    }
  });
}
