import type { RedisDriver } from './driver.js';

/** What a server (or, on a cluster, its first master) supports. */
export interface ServerCapabilities {
  /** Which server line answers: Redis, or Valkey (INFO's `server_name`). */
  readonly server: 'redis' | 'valkey';
  /** That server's own version: `valkey_version` on Valkey (e.g. `"8.0.1"`), else `redis_version`. */
  readonly serverVersion: string;
  /**
   * The Redis version whose commands the server speaks (`redis_version` from
   * INFO, e.g. `"7.0.15"`; Valkey 8 reports `"7.2.4"`). Feature checks use it.
   */
  readonly version: string;
  /** Major, minor, patch as numbers, for comparisons. */
  readonly versionParts: readonly [number, number, number];
  readonly cluster: boolean;
  /**
   * Whether a script may call `TIME` and then write (script effects
   * replication, Redis ≥ 5). redkit's time-based scripts need it.
   */
  readonly timeInScripts: boolean;
  /** `maxmemory-policy`, or `"unknown"` when CONFIG is not permitted. */
  readonly maxmemoryPolicy: string;
  /** True when the policy may evict keys that patterns need to keep. */
  readonly mayEvict: boolean;
}

const probes = new WeakMap<RedisDriver, Promise<ServerCapabilities>>();

function parseInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

async function runProbe(driver: RedisDriver): Promise<ServerCapabilities> {
  const node = (await driver.masters())[0] ?? driver;
  const info = parseInfo(String(await node.command('INFO', ['server'])));
  const version = info.get('redis_version') ?? '0.0.0';
  const server = info.get('server_name') === 'valkey' ? 'valkey' : 'redis';
  const serverVersion = (server === 'valkey' ? info.get('valkey_version') : undefined) ?? version;
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);

  let maxmemoryPolicy = 'unknown';
  try {
    const reply = (await node.command<string[]>('CONFIG', ['GET', 'maxmemory-policy'])) as unknown;
    // RESP2 replies with [name, value]; RESP3 with a map.
    const value = Array.isArray(reply) ? reply[1] : (reply as Record<string, string>)['maxmemory-policy'];
    if (typeof value === 'string') maxmemoryPolicy = value;
  } catch {
    // A least-privilege ACL user may not run CONFIG; the policy stays unknown.
  }

  let timeInScripts = false;
  try {
    const reply = await node.command<unknown[]>('EVAL', ["return redis.call('TIME')", 0]);
    timeInScripts = Array.isArray(reply) && reply.length === 2 && major >= 5;
  } catch {
    timeInScripts = false;
  }

  return {
    server,
    serverVersion,
    version,
    versionParts: [major, minor, patch],
    cluster: info.get('redis_mode') === 'cluster' || driver.topology === 'cluster',
    timeInScripts,
    maxmemoryPolicy,
    // volatile-* policies evict keys that have a TTL, which is every lock,
    // lease and session key; allkeys-* evict anything.
    mayEvict: maxmemoryPolicy.startsWith('allkeys-') || maxmemoryPolicy.startsWith('volatile-'),
  };
}

/**
 * Probes the server once per connection and caches the answer. A failed probe
 * is not cached, so the next call tries again.
 */
export function probeCapabilities(driver: RedisDriver): Promise<ServerCapabilities> {
  let probe = probes.get(driver);
  if (!probe) {
    probe = runProbe(driver);
    probes.set(driver, probe);
    probe.catch(() => probes.delete(driver));
  }
  return probe;
}

const warned = new WeakMap<RedisDriver, Set<string>>();

/**
 * Emits one process warning per connection and pattern when the server's
 * `maxmemory-policy` may evict that pattern's keys (locks, queues, sessions,
 * limiter state must not vanish). Never throws.
 *
 * @returns the capabilities, or undefined when the probe failed.
 */
export async function warnIfEvictable(driver: RedisDriver, pattern: string): Promise<ServerCapabilities | undefined> {
  let capabilities: ServerCapabilities;
  try {
    capabilities = await probeCapabilities(driver);
  } catch {
    return undefined;
  }
  if (!capabilities.mayEvict) return capabilities;
  let patterns = warned.get(driver);
  if (!patterns) {
    patterns = new Set();
    warned.set(driver, patterns);
  }
  if (!patterns.has(pattern)) {
    patterns.add(pattern);
    process.emitWarning(
      `the server's maxmemory-policy is ${capabilities.maxmemoryPolicy}: under memory pressure Redis may evict ` +
        `${pattern} keys, which breaks its guarantees. Use maxmemory-policy noeviction for this data.`,
      { code: 'REDKIT_EVICTION_POLICY' },
    );
  }
  return capabilities;
}
