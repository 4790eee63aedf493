import { randomUUID } from 'node:crypto';
import { type RunningService, type StartOptions, startService } from '../src/server.js';

/** One simulated browser: a cookie jar and JSON in and out. */
export class Browser {
  private cookie = '';

  constructor(private readonly baseUrl: string) {}

  async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...headers,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(this.cookie ? { Cookie: this.cookie } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const [setCookie] = res.headers.getSetCookie();
    if (setCookie) this.cookie = setCookie.split(';')[0] ?? '';
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field.
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  }

  get(path: string) {
    return this.call('GET', path);
  }

  post(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.call('POST', path, body ?? {}, headers);
  }

  async login(username: string, password = 'password') {
    return this.post('/login', { username, password });
  }
}

/**
 * The service on the test run's Redis (`redisUrl`, from `inject('redkit')`)
 * and on PostgreSQL when DATABASE_URL is set (in a schema of its own,
 * dropped afterwards), PGlite otherwise. Fast retries, so failing orders reach
 * the dead letters within a second.
 */
export function startTestService(redisUrl: string, options: StartOptions = {}): Promise<RunningService> {
  const id = randomUUID().slice(0, 8);
  return startService({
    redisUrl,
    databaseUrl: process.env.DATABASE_URL,
    databaseSchema: `refsvc_test_${id}`,
    dashboardIntervalMs: 250,
    ...options,
    config: {
      namespace: `test:refsvc:${id}`,
      orders: { maxDeliveries: 3, backoffMs: { initial: 20, max: 100 }, workMs: 5 },
      ...options.config,
    },
  });
}
