import { Redis, type RedisOptions } from 'ioredis';

/**
 * Sends one command to one server over a fresh connection that never retries,
 * for the harness's own checks (PING, CLUSTER INFO, ROLE …).
 */
export async function adminCall(
  host: string,
  port: number,
  args: readonly (string | number)[],
  timeoutMs = 1_000,
  tls?: { ca: string },
): Promise<unknown> {
  // RESP2 keeps INFO-style replies plain strings under ioredis 5 and 6 alike.
  const options = {
    host,
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    protocol: 2,
    ...(tls ? { tls } : {}),
  } as RedisOptions;
  const connection = new Redis(options);
  connection.on('error', () => {});
  try {
    await connection.connect();
    const [name, ...rest] = args;
    return await connection.call(String(name), ...rest);
  } finally {
    connection.disconnect();
  }
}

/** Parses `INFO` / `CLUSTER INFO` text into a map. */
export function parseInfo(text: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of String(text).split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}
