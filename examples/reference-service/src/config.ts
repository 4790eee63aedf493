/** Everything a deployment (or a test) may tune; `defaultConfig` is what the demo runs with. */
export interface ServiceConfig {
  /** Prefix of every Redis key of this service, so several instances can share one Redis. */
  namespace: string;
  /** Secret that signs the session cookie. */
  sessionSecret: string;
  limits: {
    /** Every API request, per user (or per IP when anonymous): a token bucket. */
    api: { capacity: number; refillPerSecond: number };
    /** POST /orders, per user: a sliding window on top of the API bucket. */
    orders: { limit: number; windowMs: number };
    /** POST /login, per IP: a sliding log (exact, for a small security limit). */
    login: { limit: number; windowMs: number };
  };
  cache: { ttlMs: number; graceMs: number };
  orders: {
    /** In-process consumers of the orders stream. */
    workers: number;
    /** Messages each worker handles at once. */
    concurrency: number;
    /** Database permits shared by all workers of all processes. */
    permits: number;
    /** Attempts before an order goes to the dead letters. */
    maxDeliveries: number;
    backoffMs: { initial: number; max: number };
    /** How long one order holds the database (a stand-in for real work). */
    workMs: number;
  };
}

export const defaultConfig: ServiceConfig = {
  namespace: 'refsvc',
  sessionSecret: 'change me: the demo secret',
  limits: {
    api: { capacity: 30, refillPerSecond: 10 },
    orders: { limit: 10, windowMs: 10_000 },
    login: { limit: 10, windowMs: 60_000 },
  },
  cache: { ttlMs: 10_000, graceMs: 60_000 },
  orders: {
    workers: 3,
    concurrency: 2,
    permits: 2,
    maxDeliveries: 3,
    backoffMs: { initial: 200, max: 2_000 },
    workMs: 120,
  },
};

/** `defaultConfig` with some parts replaced (one level deep per section). */
export function withConfig(overrides: DeepPartial<ServiceConfig> = {}): ServiceConfig {
  const base = structuredClone(defaultConfig);
  const limits = overrides.limits ?? {};
  return {
    ...base,
    ...(overrides.namespace ? { namespace: overrides.namespace } : {}),
    ...(overrides.sessionSecret ? { sessionSecret: overrides.sessionSecret } : {}),
    limits: {
      api: { ...base.limits.api, ...limits.api },
      orders: { ...base.limits.orders, ...limits.orders },
      login: { ...base.limits.login, ...limits.login },
    },
    cache: { ...base.cache, ...overrides.cache },
    orders: {
      ...base.orders,
      ...overrides.orders,
      backoffMs: { ...base.orders.backoffMs, ...overrides.orders?.backoffMs },
    },
  };
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
