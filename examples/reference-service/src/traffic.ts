import { discontinuedProductId, seedStores, seedUsers } from './db.js';

/** A tiny HTTP client with one cookie jar: one simulated browser. */
class Client {
  private cookie = '';

  constructor(
    private readonly baseUrl: string,
    private readonly inFlight: Set<AbortController>,
  ) {}

  async request(method: string, path: string, body?: unknown): Promise<number> {
    // One controller per request: fetch keeps its abort listener on a shared signal long after the response.
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      return await this.send(method, path, body, controller.signal);
    } finally {
      this.inFlight.delete(controller);
    }
  }

  private async send(method: string, path: string, body: unknown, signal: AbortSignal): Promise<number> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      signal,
      headers: {
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(this.cookie ? { Cookie: this.cookie } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0] ?? '';
    await res.arrayBuffer();
    return res.status;
  }
}

export interface TrafficOptions {
  /** Pause between two actions of one simulated user. @default 150 */
  pauseMs?: number;
  /** Stops by itself after this long. @default 1 hour */
  durationMs?: number;
}

export interface Traffic {
  /** Requests sent so far, by status code. */
  readonly statuses: Map<number, number>;
  stop(): Promise<void>;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Background traffic for the demo: a few logged-in users browsing products
 * (hot ones hit the cache, rare ones miss), searching stores, posting scores
 * and placing orders (some for the discontinued product, which end in the
 * dead letters), plus one user who bursts past the rate limit now and then.
 * Bounded in rate (one request per user per `pauseMs`) and in time.
 */
export function startTraffic(baseUrl: string, options: TrafficOptions = {}): Traffic {
  const pauseMs = options.pauseMs ?? 150;
  const controller = new AbortController();
  const { signal } = controller;
  const deadline = setTimeout(() => controller.abort(), options.durationMs ?? 3_600_000);
  const statuses = new Map<number, number>();
  const inFlight = new Set<AbortController>();
  const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

  const browse = async (user: string) => {
    const client = new Client(baseUrl, inFlight);
    count(await client.request('POST', '/login', { username: user, password: 'password' }));
    while (!signal.aborted) {
      const roll = Math.random();
      let status: number;
      if (roll < 0.55) {
        // Mostly the ten hot products; sometimes any of 60 (ids above 50 do not exist: cached "not found").
        const id = Math.random() < 0.8 ? 1 + Math.floor(Math.random() * 10) : 1 + Math.floor(Math.random() * 60);
        status = await client.request('GET', `/products/${id}`);
      } else if (roll < 0.65) {
        const store = pick(seedStores);
        const jitter = () => (Math.random() - 0.5) * 0.05;
        status = await client.request(
          'GET',
          `/stores/nearby?lon=${store.lon + jitter()}&lat=${store.lat + jitter()}&radiusKm=3`,
        );
      } else if (roll < 0.75) {
        status = await client.request('POST', '/scores', { score: Math.floor(Math.random() * 1_200) });
      } else if (roll < 0.82) {
        status = await client.request('GET', '/leaderboard');
      } else {
        const productId = Math.random() < 0.1 ? discontinuedProductId : 1 + Math.floor(Math.random() * 20);
        status = await client.request('POST', '/orders', { productId, quantity: 1 + Math.floor(Math.random() * 3) });
      }
      count(status);
      await sleep(pauseMs * (0.5 + Math.random()), signal);
    }
  };

  // Sends a burst every few seconds: the API bucket runs dry and answers 429 with RateLimit headers.
  const burst = async (user: string) => {
    const client = new Client(baseUrl, inFlight);
    count(await client.request('POST', '/login', { username: user, password: 'password' }));
    while (!signal.aborted) {
      const statusesOfBurst = await Promise.all(
        Array.from({ length: 40 }, () => client.request('GET', `/products/${1 + Math.floor(Math.random() * 5)}`)),
      );
      for (const status of statusesOfBurst) count(status);
      await sleep(4_000, signal);
    }
  };

  const users = seedUsers.filter((user) => user !== 'admin');
  const runs = [...users.slice(0, -1).map((user) => browse(user)), burst(users.at(-1) as string)].map((run) =>
    // A request that fails while the service shuts down ends that user's loop, nothing more.
    run.catch((error: unknown) => {
      if (!signal.aborted) console.error('traffic:', error);
    }),
  );

  return {
    statuses,
    async stop() {
      controller.abort();
      for (const request of inFlight) request.abort();
      clearTimeout(deadline);
      await Promise.all(runs);
    },
  };
}
