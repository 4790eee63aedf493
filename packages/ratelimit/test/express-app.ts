import { createServer, type IncomingHttpHeaders, type RequestListener, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

// Express has no bundled types and @types/express is not a dependency: a
// structural view of the part the Express tests use.

/** The request as the tests' handlers read it. */
export interface ExpressRequest {
  readonly headers: IncomingHttpHeaders;
  readonly ip?: string;
  rateLimit?: unknown;
}

export interface ExpressResponse extends ServerResponse {
  status(code: number): ExpressResponse;
  json(body: unknown): void;
  send(body: unknown): void;
}

export type ExpressHandler = (req: ExpressRequest, res: ExpressResponse, next: (error?: unknown) => void) => void;
export type ExpressErrorHandler = (error: Error, req: ExpressRequest, res: ExpressResponse, next: () => void) => void;

export interface ExpressApp extends RequestListener {
  set(name: string, value: unknown): void;
  get(path: string, ...handlers: ExpressHandler[]): void;
  use(...handlers: (ExpressHandler | ExpressErrorHandler)[]): void;
}

const require = createRequire(import.meta.url);

/** Both Express majors: `express4` is an npm alias of express@4. */
export const expressVersions = [
  { name: 'Express 4', create: require('express4') as () => ExpressApp },
  { name: 'Express 5', create: require('express') as () => ExpressApp },
] as const;

export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `listener` on a free port. On `::` (every interface, the default)
 * IPv4 clients arrive as `::ffff:127.0.0.1`; on `127.0.0.1` as `127.0.0.1`.
 */
export async function listen(listener: RequestListener, host = '::'): Promise<RunningApp> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** A GET (or `init.method`) whose body is parsed as JSON when the reply says so. */
export async function request(
  url: string,
  headers: Record<string, string> = {},
  init: RequestInit = {},
): Promise<Reply> {
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: type.includes('json') && text ? JSON.parse(text) : text,
  };
}
