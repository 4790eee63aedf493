import { testServer } from '@redkit/testing/vitest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningService } from '../src/server.js';
import { Browser, startTestService } from './helpers.js';

// Every endpoint over real HTTP, on the run's standalone Redis.
describe('reference service', () => {
  let service: RunningService;
  let admin: Browser;

  beforeAll(async () => {
    service = await startTestService(testServer('standalone').url, {
      config: { limits: { orders: { limit: 3, windowMs: 10_000 } } },
    });
    admin = new Browser(service.url);
    expect((await admin.login('admin')).status).toBe(200);
  });
  afterAll(() => service?.close());

  it('serves a product from the database on a miss, then from the cache', async () => {
    const browser = new Browser(service.url);
    const first = await browser.get('/products/7');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-cache')).toBe('miss');
    expect(first.json).toMatchObject({ id: 7, name: 'Product 7', priceCents: 799 });
    const second = await browser.get('/products/7');
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.json).toEqual(first.json);

    // "Not found" is cached too: the second lookup does not reach the database.
    expect((await browser.get('/products/999')).status).toBe(404);
    const missing = await browser.get('/products/999');
    expect([missing.status, missing.headers.get('x-cache')]).toEqual([404, 'hit']);
    expect((await browser.get('/products/abc')).status).toBe(400);
  });

  it('writes a product through the cache: the next read is a hit with the new price', async () => {
    await admin.get('/products/8');
    const put = await admin.call('PUT', '/products/8', { priceCents: 1234 });
    expect(put.status).toBe(200);
    const read = await new Browser(service.url).get('/products/8');
    expect([read.headers.get('x-cache'), read.json.priceCents]).toEqual(['hit', 1234]);
    const [row] = await service.services.db.query<{ price_cents: number }>(
      'SELECT price_cents FROM products WHERE id = 8',
    );
    expect(row?.price_cents).toBe(1234);
    // Writes are for admins.
    const user = new Browser(service.url);
    await user.login('eve');
    expect((await user.call('PUT', '/products/8', { priceCents: 1 })).status).toBe(403);
  });

  it('limits orders per user: the 4th within the window gets 429 with IETF RateLimit headers', async () => {
    const browser = new Browser(service.url);
    await browser.login('fay');
    const statuses: number[] = [];
    let last: Awaited<ReturnType<Browser['post']>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await browser.post('/orders', { productId: 3 });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    // pk: the draft-8 partition key, a hash of the user's key (docs/ratelimit-http.md).
    expect(last?.headers.get('ratelimit-policy')).toMatch(/^"orders";q=3;w=10;pk=:[A-Za-z0-9+/]+=*:$/);
    expect(last?.headers.get('ratelimit')).toMatch(/^"orders";r=0;t=\d+$/);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(last?.json).toMatchObject({ status: 429, title: 'Too Many Requests' });
    // Another user has a budget of their own.
    const other = new Browser(service.url);
    await other.login('gus');
    expect((await other.post('/orders', { productId: 3 })).status).toBe(202);
    // Every API response carries the API bucket's headers.
    expect((await other.get('/leaderboard')).headers.get('ratelimit-policy')).toMatch(
      /^"api";q=\d+;w=\d+;pk=:[A-Za-z0-9+/]+=*:$/,
    );
  });

  it('logs in, logs out, and logs out everywhere', async () => {
    const laptop = new Browser(service.url);
    const phone = new Browser(service.url);
    expect((await laptop.login('ana', 'wrong')).status).toBe(401);
    expect((await laptop.get('/me')).status).toBe(401);
    expect((await laptop.login('ana')).json).toEqual({ user: { id: 'ana', role: 'user' } });
    await phone.login('ana');
    const me = await laptop.get('/me');
    expect(me.json).toEqual({ user: { id: 'ana', role: 'user' }, sessions: 2 });

    expect((await laptop.post('/logout-everywhere')).json).toEqual({ ended: 2 });
    expect((await laptop.get('/me')).status).toBe(401);
    expect((await phone.get('/me')).status).toBe(401);

    const tablet = new Browser(service.url);
    await tablet.login('ana');
    expect((await tablet.get('/me')).status).toBe(200);
    expect((await tablet.post('/logout')).status).toBe(204);
    expect((await tablet.get('/me')).status).toBe(401);
  });

  it('ranks scores: submit, top 10, my rank', async () => {
    const browser = new Browser(service.url);
    // The seed scores are loaded from SQL at start.
    const before = await browser.get('/leaderboard');
    expect(before.json.top.map((entry: { member: string }) => entry.member)).toEqual([
      'ana',
      'ben',
      'cho',
      'dee',
      'eve',
      'fay',
      'gus',
    ]);
    await browser.login('dee');
    expect((await browser.post('/scores', { score: 5_000 })).json).toEqual({ score: 5_000, rank: 1, improved: true });
    expect((await browser.post('/scores', { score: 10 })).json).toEqual({ score: 5_000, rank: 1, improved: false });
    const top = await browser.get('/leaderboard');
    expect(top.json.top[0]).toMatchObject({ member: 'dee', score: 5_000, rank: 1 });
    const mine = await browser.get('/leaderboard/me');
    expect(mine.json.entry).toMatchObject({ member: 'dee', rank: 1 });
    // The window keeps its size at the top of the board: 2 on each side becomes the top 5.
    expect(mine.json.around.map((entry: { member: string }) => entry.member)).toEqual([
      'dee',
      'ana',
      'ben',
      'cho',
      'eve',
    ]);
    expect((await browser.post('/scores', { score: -1 })).status).toBe(400);
  });

  it('finds stores nearby, nearest first', async () => {
    const browser = new Browser(service.url);
    const res = await browser.get('/stores/nearby?lon=2.3376&lat=48.8606&radiusKm=3');
    expect(res.status).toBe(200);
    const names = res.json.stores.map((store: { name: string }) => store.name);
    expect(names).toEqual(['Louvre', 'Bastille', 'Montmartre']);
    const distances = res.json.stores.map((store: { distanceKm: number }) => store.distanceKm);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(distances[0]).toBeLessThan(0.01);
    expect((await browser.get('/stores/nearby?lon=500&lat=0')).status).toBe(400);
  });

  it('takes stock once for an order delivered twice (delivery is at least once)', async () => {
    const { db, orders } = service.services;
    const stockOf = async () =>
      (await db.query<{ stock: number }>('SELECT stock FROM products WHERE id = 4'))[0]?.stock as number;
    const before = await stockOf();
    // The same message twice on the stream, as a redelivery after a crash or a claim would hand it over.
    const order = { orderId: crypto.randomUUID(), userId: 'dora', productId: 4, quantity: 3 };
    await orders.queue.addMany([order, order]);
    await vi.waitFor(
      async () => {
        expect((await orders.queue.stats()).groups.every((group) => group.pending === 0 && group.lag === 0)).toBe(true);
        expect(await orders.find(order.orderId)).toBeDefined();
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(await stockOf()).toBe(before - 3);
  });

  it('processes an order in a worker, and dead-letters one that keeps failing (then replays it)', async () => {
    const browser = new Browser(service.url);
    await browser.login('ben');
    const placed = await browser.post('/orders', { productId: 2, quantity: 2 });
    expect(placed.status).toBe(202);
    const { orderId } = placed.json;
    await vi.waitFor(
      async () => {
        const res = await browser.get(`/orders/${orderId}`);
        expect(res.json.status).toBe('processed');
        expect(res.json.order).toMatchObject({ id: orderId, userId: 'ben', productId: 2, quantity: 2 });
      },
      { timeout: 10_000, interval: 50 },
    );

    // Product 13 is discontinued: the worker throws, the queue retries with backoff, then gives up.
    const failing = await browser.post('/orders', { productId: 13 });
    const failingId = failing.json.orderId;
    const dead = await vi.waitFor(
      async () => {
        const res = await admin.get('/admin/dead-letters');
        const letter = res.json.deadLetters.find(
          (entry: { order: { orderId: string } }) => entry.order.orderId === failingId,
        );
        expect(letter).toBeDefined();
        return letter;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(dead.attempts).toBe(3);
    expect(dead.error).toContain('product 13 is discontinued');
    expect((await browser.get(`/orders/${failingId}`)).json).toEqual({ status: 'pending' });
    expect((await browser.get('/admin/dead-letters')).status).toBe(403);

    const replay = await admin.post(`/admin/dead-letters/${dead.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.json.replayedAs).toMatch(/^\d+-\d+$/);
    expect((await admin.post(`/admin/dead-letters/${dead.id}/replay`)).status).toBe(404);
  });

  it('reports it all on the dashboard snapshot', async () => {
    const snapshot = (await new Browser(service.url).get('/dashboard/snapshot')).json;
    expect(snapshot.cache.hits).toBeGreaterThan(0);
    expect(snapshot.cache.misses).toBeGreaterThan(0);
    expect(snapshot.rateLimit.deniedBy.orders).toBe(1);
    expect(snapshot.queue.processed).toBeGreaterThan(0);
    expect(snapshot.queue.deadLettered).toBeGreaterThanOrEqual(1);
    expect(snapshot.permits).toMatchObject({ limit: 2 });
    expect(snapshot.leaderboard[0]).toMatchObject({ member: 'dee', rank: 1 });
    const page = await new Browser(service.url).get('/dashboard');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('/dashboard/events');
  });
});
