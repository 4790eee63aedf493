import { accessSync, constants } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { RedisServerNotFoundError } from './errors.js';

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A server line the harness can run. */
export type ServerLine = 'redis' | 'valkey';

/**
 * The server line the harness runs: `REDKIT_TEST_SERVER` (`redis` or
 * `valkey`), else `redis`. It picks the binaries from PATH (`valkey-server`
 * and `valkey-cli` for Valkey) unless `REDIS_SERVER_BIN` names one.
 */
export function serverLine(): ServerLine {
  const requested = process.env.REDKIT_TEST_SERVER ?? 'redis';
  if (requested !== 'redis' && requested !== 'valkey') {
    throw new RedisServerNotFoundError(
      `REDKIT_TEST_SERVER must be "redis" or "valkey", got ${JSON.stringify(requested)}`,
    );
  }
  return requested;
}

/**
 * Paths of the server and its CLI: `REDIS_SERVER_BIN` (and the `redis-cli`
 * beside it, or `REDIS_CLI_BIN`), else `redis-server`/`redis-cli` (or
 * `valkey-server`/`valkey-cli` with `REDKIT_TEST_SERVER=valkey`) from PATH.
 */
export function redisBinaries(): { server: string; cli: string } {
  const configured = process.env.REDIS_SERVER_BIN;
  if (configured) {
    try {
      accessSync(configured, constants.X_OK);
    } catch {
      throw new RedisServerNotFoundError(`REDIS_SERVER_BIN=${configured} is not an executable file`);
    }
    const cli = process.env.REDIS_CLI_BIN ?? join(dirname(configured), 'redis-cli');
    return { server: configured, cli: findExecutable(cli) ?? findOnPath('redis-cli') ?? cli };
  }
  const line = serverLine();
  const server = findOnPath(`${line}-server`);
  if (!server) {
    throw new RedisServerNotFoundError(
      line === 'valkey'
        ? 'REDKIT_TEST_SERVER=valkey but valkey-server is not on PATH (Debian 12: apt-get install -t bookworm-backports valkey-server)'
        : 'redis-server is not on PATH',
    );
  }
  const cli = process.env.REDIS_CLI_BIN ?? findOnPath(`${line}-cli`);
  if (!cli) throw new RedisServerNotFoundError(`${line}-cli is not on PATH (it creates the cluster)`);
  return { server, cli };
}

function findExecutable(path: string): string | undefined {
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return undefined;
  }
}
