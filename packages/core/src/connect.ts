import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { z } from 'zod';
import { watchConnection } from './connection-events.js';
import { durationSchema } from './duration.js';
import { InvalidOptionsError } from './errors.js';
import type { RedisConnection } from './ioredis-driver.js';
import { parseOptions } from './options.js';

/** One server address. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** The three deployments {@link connect} reaches. */
export type ConnectionTopology = 'standalone' | 'sentinel' | 'cluster';

/** What a connection URL says. */
export interface ParsedConnectionUrl {
  topology: ConnectionTopology;
  tls: boolean;
  /** The server (standalone), the seed nodes (cluster) or the sentinels (sentinel). */
  nodes: NodeAddress[];
  username?: string;
  password?: string;
  db?: number;
  /** Sentinel: the name the sentinels monitor the primary under. */
  masterName?: string;
  /** Sentinel: connect to the primary (default) or to one of its replicas (`?role=replica`). */
  role?: 'master' | 'replica';
}

const defaultPort = 6379;
const defaultSentinelPort = 26379;
const schemes: Record<string, { topology: ConnectionTopology; tls: boolean }> = {
  'redis:': { topology: 'standalone', tls: false },
  'rediss:': { topology: 'standalone', tls: true },
  'redis+sentinel:': { topology: 'sentinel', tls: false },
  'rediss+sentinel:': { topology: 'sentinel', tls: true },
  'redis+cluster:': { topology: 'cluster', tls: false },
  'rediss+cluster:': { topology: 'cluster', tls: true },
};
const schemeList = 'redis://, rediss://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://';

function urlError(message: string): InvalidOptionsError {
  return new InvalidOptionsError([{ path: 'url', message }], { context: 'connect()' });
}

function parseAddress(text: string, url: string, port = defaultPort): NodeAddress {
  let parsed: URL;
  try {
    parsed = new URL(`redis://${text}`);
  } catch {
    throw urlError(`${JSON.stringify(text)} in ${JSON.stringify(url)} is not a host[:port]`);
  }
  if (!parsed.hostname || parsed.pathname.length > 0 || parsed.search || parsed.username) {
    throw urlError(`${JSON.stringify(text)} in ${JSON.stringify(url)} is not a host[:port]`);
  }
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  return { host, port: parsed.port ? Number(parsed.port) : port };
}

/**
 * Parses `redis://`, `rediss://` (TLS), `redis+sentinel://`,
 * `rediss+sentinel://`, `redis+cluster://` and `rediss+cluster://` URLs.
 * User and password (ACL) come before `@`, percent-encoded; a standalone URL
 * may end in `/<db>`; a cluster URL lists seed nodes separated by commas.
 *
 * A Sentinel URL lists the sentinels and ends in the name they monitor the
 * primary under, optionally followed by a database:
 * `redis+sentinel://[user:pass@]host:port,host:port/<master-name>[/<db>][?role=replica]`.
 * Its user and password are those of the primary and replicas (give the
 * sentinels' own with `sentinelUsername` / `sentinelPassword`); with
 * `rediss+sentinel://`, both the sentinels and the data nodes speak TLS.
 *
 * @example
 * ```ts
 * parseConnectionUrl('redis+cluster://app:s3cret@10.0.0.1:7000,10.0.0.2:7000')
 * parseConnectionUrl('redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster?role=replica')
 * ```
 */
export function parseConnectionUrl(url: string): ParsedConnectionUrl {
  const schemeEnd = url.indexOf('//');
  const scheme = schemeEnd > 0 ? schemes[url.slice(0, schemeEnd)] : undefined;
  if (!scheme) {
    throw urlError(`${JSON.stringify(url)} must start with ${schemeList}`);
  }
  let rest = url.slice(schemeEnd + 2);
  const result: ParsedConnectionUrl = { ...scheme, nodes: [] };

  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userInfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userInfo.indexOf(':');
    const username = decodeURIComponent(colon >= 0 ? userInfo.slice(0, colon) : userInfo);
    const password = colon >= 0 ? decodeURIComponent(userInfo.slice(colon + 1)) : undefined;
    if (username) result.username = username;
    if (password !== undefined) result.password = password;
  }

  const question = rest.indexOf('?');
  const query = question >= 0 ? rest.slice(question + 1) : undefined;
  if (question >= 0) rest = rest.slice(0, question);
  const slash = rest.indexOf('/');
  const hosts = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  if (scheme.topology === 'sentinel') {
    parseSentinelPath(path, query, url, result);
  } else {
    if (query !== undefined) throw urlError(`${JSON.stringify(url)}: query parameters are not supported`);
    if (path !== '') {
      if (!/^\d+$/.test(path)) throw urlError(`${JSON.stringify(url)}: the database must be a number, got "${path}"`);
      if (scheme.topology === 'cluster') throw urlError(`${JSON.stringify(url)}: Redis Cluster has only database 0`);
      result.db = Number(path);
    }
  }

  const addresses = hosts === '' ? [] : hosts.split(',');
  if (addresses.length === 0) throw urlError(`${JSON.stringify(url)} names no host`);
  if (scheme.topology === 'standalone' && addresses.length > 1) {
    throw urlError(
      `${JSON.stringify(url)} lists several hosts; use redis+cluster:// for a cluster, redis+sentinel:// for sentinels`,
    );
  }
  const port = scheme.topology === 'sentinel' ? defaultSentinelPort : defaultPort;
  result.nodes = addresses.map((address) => parseAddress(address, url, port));
  return result;
}

/** `<master-name>[/<db>]` and `?role=master|replica` of a Sentinel URL. */
function parseSentinelPath(path: string, query: string | undefined, url: string, result: ParsedConnectionUrl): void {
  const [name = '', db, ...extra] = path.split('/');
  if (name === '') throw urlError(`${JSON.stringify(url)}: a Sentinel URL ends in /<master-name>`);
  if (extra.length > 0) throw urlError(`${JSON.stringify(url)}: a Sentinel URL's path is /<master-name>[/<db>]`);
  result.masterName = decodeURIComponent(name);
  if (db !== undefined) {
    if (!/^\d+$/.test(db)) throw urlError(`${JSON.stringify(url)}: the database must be a number, got "${db}"`);
    result.db = Number(db);
  }
  for (const [key, value] of new URLSearchParams(query ?? '')) {
    if (key !== 'role') throw urlError(`${JSON.stringify(url)}: unknown parameter "${key}" (only role is supported)`);
    if (value !== 'master' && value !== 'replica') {
      throw urlError(`${JSON.stringify(url)}: role must be master or replica, got "${value}"`);
    }
    result.role = value;
  }
}

const portSchema = z.number().int().min(1).max(65535);
const nodeSchema = z.union([
  z.object({ host: z.string().min(1), port: portSchema }),
  z.string().min(1, 'must be "host:port"'),
]);

/**
 * Options of {@link connect}. Give exactly one of `url`, `host`, `nodes` (a
 * cluster's seed nodes) or `sentinels` (with `masterName`).
 */
export const connectOptionsSchema = z
  .object({
    /** `redis://`, `rediss://`, `redis+sentinel://`, `rediss+sentinel://`, `redis+cluster://` or `rediss+cluster://` URL. */
    url: z.string().optional(),
    host: z.string().min(1).optional(),
    /** @default 6379 */
    port: portSchema.optional(),
    /** Seed nodes of a Redis Cluster: `{ host, port }` or `"host:port"`. */
    nodes: z.array(nodeSchema).min(1).optional(),
    /** Sentinels watching the primary: `{ host, port }` or `"host:port"` (26379 when no port is given). */
    sentinels: z.array(nodeSchema).min(1).optional(),
    /** Sentinel: the name the sentinels monitor the primary under (ioredis's `name`). */
    masterName: z.string().min(1).optional(),
    /** Sentinel: connect to the primary, or to a replica for reads. @default "master" */
    role: z.enum(['master', 'replica']).optional(),
    /** Sentinel: ACL user of the sentinels themselves (`username` is that of the data nodes). */
    sentinelUsername: z.string().min(1).optional(),
    /** Sentinel: password of the sentinels themselves. */
    sentinelPassword: z.string().optional(),
    /** ACL user name. */
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /** Database index (standalone only). @default 0 */
    db: z.number().int().min(0).optional(),
    /** TLS: `true`, or Node `tls.connect` options (CA, certificates, servername). */
    tls: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
    /**
     * Bound on every command. A command that times out may still run on the
     * server; redkit never re-sends it. @default "2s"
     */
    commandTimeout: durationSchema({ min: 1 }).default(2_000),
    /** Bound on establishing a connection. @default "5s" */
    connectTimeout: durationSchema({ min: 1 }).default(5_000),
    /** Reconnect backoff: doubling from `minDelay` up to `maxDelay`, with jitter. */
    reconnect: z
      .object({
        minDelay: durationSchema({ min: 1 }).default(50),
        maxDelay: durationSchema({ min: 1 }).default(2_000),
      })
      .default({ minDelay: 50, maxDelay: 2_000 }),
    /**
     * Queue commands issued while (re)connecting instead of failing them at
     * once. Queued commands still fail after `commandTimeout`. @default true
     */
    offlineQueue: z.boolean().default(true),
    /**
     * Failed reconnect attempts after which queued commands are failed;
     * `null` leaves them to `commandTimeout`. Commands in flight when the
     * connection dropped are never re-sent and fail by `commandTimeout`.
     * (0 would fail them sooner, but ioredis 6 then leaks an unhandled
     * rejection from its reconnect handshake.) @default 1
     */
    maxRetriesPerRequest: z.number().int().min(0).nullable().default(1),
    /** Batch commands issued in the same tick into one write. @default false */
    autoPipelining: z.boolean().default(false),
    /** Client name shown by `CLIENT LIST`. */
    name: z.string().min(1).optional(),
    /** Connect on the first command instead of at once. @default false */
    lazyConnect: z.boolean().default(false),
    /** Extra ioredis options, applied last (escape hatch; redkit's safety defaults can be overridden here). */
    ioredis: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    const given = (['url', 'host', 'nodes', 'sentinels'] as const).filter((field) => options[field] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: given[1] ? [given[1]] : ['url'],
        message: `give exactly one of url, host, nodes or sentinels (got ${given.length ? given.join(', ') : 'none'})`,
      });
    }
    const sentinelUrl = options.url !== undefined && /^rediss?\+sentinel:/.test(options.url);
    if (options.sentinels !== undefined && options.masterName === undefined) {
      ctx.addIssue({ code: 'custom', path: ['masterName'], message: 'is required with sentinels' });
    }
    if (options.sentinels === undefined && !sentinelUrl) {
      for (const field of ['masterName', 'role', 'sentinelUsername', 'sentinelPassword'] as const) {
        if (options[field] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: 'applies to Sentinel only (sentinels or a redis+sentinel:// URL)',
          });
        }
      }
    }
    if (options.reconnect.minDelay > options.reconnect.maxDelay) {
      ctx.addIssue({ code: 'custom', path: ['reconnect', 'minDelay'], message: 'must not exceed maxDelay' });
    }
  });

/** Options accepted by {@link connect}. */
export type ConnectOptions = z.input<typeof connectOptionsSchema>;

/** What {@link connect} hands to ioredis, exposed for inspection and tests. */
export interface ResolvedConnection {
  topology: ConnectionTopology;
  /** The server (standalone), the seed nodes (cluster) or the sentinels (sentinel). */
  nodes: NodeAddress[];
  /** Options of each server connection (for Sentinel, with the `sentinels` and `name` ioredis asks). */
  redisOptions: RedisOptions;
  /** Options of the cluster client (cluster only). */
  clusterOptions?: ClusterOptions;
}

function backoff(minDelay: number, maxDelay: number): (attempt: number) => number {
  return (attempt) => {
    const ceiling = Math.min(maxDelay, minDelay * 2 ** Math.min(attempt - 1, 20));
    // Equal jitter: never less than half the step, so reconnects stay spread
    // out without collapsing to zero.
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  };
}

function parseNode(node: string | NodeAddress, port = defaultPort): NodeAddress {
  return typeof node === 'string' ? parseAddress(node, node, port) : node;
}

/**
 * A reply that says the command did not run because the node is a replica:
 * the primary it was connected to has been demoted (a Sentinel failover while
 * this client's connection to it stayed open). Reconnecting asks the sentinels
 * for the new primary, and re-sending is safe since nothing ran.
 */
function demotedPrimary(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

/**
 * Resolves {@link ConnectOptions} into ioredis options without connecting.
 * @throws InvalidOptionsError naming the bad field.
 */
export function resolveConnection(input: string | ConnectOptions): ResolvedConnection {
  // `connect(process.env.REDIS_URL)` with the variable unset is the usual way
  // to get here; zod alone would say "expected object, received undefined".
  if (input === undefined || input === null || input === '') {
    throw urlError(
      `a Redis URL or connection options are required, got ${input === '' ? 'an empty string' : String(input)} (is REDIS_URL set?)`,
    );
  }
  const options = parseOptions(connectOptionsSchema, typeof input === 'string' ? { url: input } : input, 'connect()');
  const fromUrl = options.url === undefined ? undefined : parseConnectionUrl(options.url);
  const topology = fromUrl?.topology ?? (options.nodes ? 'cluster' : options.sentinels ? 'sentinel' : 'standalone');
  const nodes = fromUrl?.nodes ??
    options.nodes?.map((node) => parseNode(node)) ??
    options.sentinels?.map((node) => parseNode(node, defaultSentinelPort)) ?? [
      { host: options.host as string, port: options.port ?? defaultPort },
    ];
  if (topology === 'cluster' && options.db !== undefined && options.db !== 0) {
    throw new InvalidOptionsError([{ path: 'db', message: 'Redis Cluster has only database 0' }], {
      context: 'connect()',
    });
  }

  const username = options.username ?? fromUrl?.username;
  const password = options.password ?? fromUrl?.password;
  const tlsOption = options.tls ?? fromUrl?.tls ?? false;
  const tls = tlsOption === true ? {} : tlsOption === false ? undefined : tlsOption;
  const retry = backoff(options.reconnect.minDelay, options.reconnect.maxDelay);

  const redisOptions: RedisOptions = {
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(tls ? { tls } : {}),
    ...(options.name ? { connectionName: options.name } : {}),
    commandTimeout: options.commandTimeout,
    connectTimeout: options.connectTimeout,
    maxRetriesPerRequest: options.maxRetriesPerRequest,
    enableOfflineQueue: options.offlineQueue,
    // A command that was written but not answered before the connection
    // dropped may have run: re-sending it could apply it twice.
    autoResendUnfulfilledCommands: false,
    lazyConnect: options.lazyConnect,
  };

  if (topology === 'standalone') {
    const node = nodes[0] as NodeAddress;
    return {
      topology,
      nodes,
      redisOptions: {
        ...redisOptions,
        host: node.host,
        port: node.port,
        db: options.db ?? fromUrl?.db ?? 0,
        retryStrategy: retry,
        enableAutoPipelining: options.autoPipelining,
        ...(options.ioredis as RedisOptions | undefined),
      },
    };
  }

  if (topology === 'sentinel') {
    const sentinelUsername = options.sentinelUsername;
    const sentinelPassword = options.sentinelPassword;
    const role = (options.role ?? fromUrl?.role) === 'replica' ? 'slave' : 'master';
    return {
      topology,
      nodes,
      redisOptions: {
        ...redisOptions,
        sentinels: nodes,
        name: options.masterName ?? fromUrl?.masterName,
        role,
        db: options.db ?? fromUrl?.db ?? 0,
        ...(sentinelUsername !== undefined ? { sentinelUsername } : {}),
        ...(sentinelPassword !== undefined ? { sentinelPassword } : {}),
        ...(tls ? { sentinelTLS: tls, enableTLSForSentinelMode: true } : {}),
        // Asking the sentinels is bounded like any command, and retried with the same backoff.
        sentinelCommandTimeout: options.commandTimeout,
        sentinelRetryStrategy: retry,
        retryStrategy: retry,
        // Listen for the sentinels' +switch-master and move at once, rather
        // than only when the old primary's connection breaks.
        failoverDetector: true,
        // (A replica connection refuses writes by design: no reconnect there.)
        ...(role === 'master' ? { reconnectOnError: demotedPrimary } : {}),
        enableAutoPipelining: options.autoPipelining,
        ...(options.ioredis as RedisOptions | undefined),
      },
    };
  }

  const clusterOptions: ClusterOptions = {
    redisOptions,
    clusterRetryStrategy: retry,
    enableOfflineQueue: options.offlineQueue,
    enableAutoPipelining: options.autoPipelining,
    lazyConnect: options.lazyConnect,
    // ioredis would re-send a command whose connection closed, even when it
    // had already been written; its outcome is unknown, so fail it instead.
    retryDelayOnFailover: 0,
    // These replies mean the command did not run, so retrying is safe.
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: options.connectTimeout,
    ...(options.ioredis as ClusterOptions | undefined),
  };
  return { topology, nodes, redisOptions, clusterOptions };
}

/**
 * Opens an ioredis client with defaults suited to pattern code: bounded
 * command and connect timeouts, jittered reconnect backoff, and no re-sending
 * of commands whose outcome is unknown.
 *
 * The client comes with an `error` listener: while Redis cannot be reached it
 * reconnects with backoff and reports the errors through
 * {@link connectionEvents} (or your own `redis.on('error')`); left unhandled,
 * the first error of each outage becomes one process warning
 * (`REDKIT_REDIS_UNREACHABLE`) rather than a stack trace per attempt.
 *
 * @throws InvalidOptionsError naming the bad field; `url` when no URL or
 * options are given (e.g. `connect(process.env.REDIS_URL)` with it unset).
 * @example
 * ```ts
 * const redis = connect('redis://localhost:6379')
 * const cluster = connect('redis+cluster://10.0.0.1:7000,10.0.0.2:7000')
 * const primary = connect('redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster')
 * const acl = connect({ url: 'rediss://app:s3cret@cache.internal:6380/2', commandTimeout: '500ms' })
 * ```
 */
export function connect(url: `redis+cluster://${string}` | `rediss+cluster://${string}`): Cluster;
export function connect(options: ConnectOptions & { nodes: NonNullable<ConnectOptions['nodes']> }): Cluster;
export function connect(urlOrOptions: string | ConnectOptions): RedisConnection;
export function connect(urlOrOptions: string | ConnectOptions): RedisConnection {
  const resolved = resolveConnection(urlOrOptions);
  const address = resolved.nodes.map(({ host, port }) =>
    host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
  );

  const client =
    resolved.topology === 'cluster'
      ? new Cluster(resolved.nodes, resolved.clusterOptions)
      : new Redis(resolved.redisOptions);
  const label =
    resolved.topology === 'sentinel'
      ? `the primary "${resolved.redisOptions.name}" of sentinels ${address.join(',')}`
      : address.join(',');
  watchConnection(client, label);
  return client;
}
