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

/** Paths of `redis-server` and `redis-cli`: `REDIS_SERVER_BIN` (and the `redis-cli` beside it) or PATH. */
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
  const server = findOnPath('redis-server');
  if (!server) throw new RedisServerNotFoundError('redis-server is not on PATH');
  const cli = process.env.REDIS_CLI_BIN ?? findOnPath('redis-cli');
  if (!cli) throw new RedisServerNotFoundError('redis-cli is not on PATH (it creates the cluster)');
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
