import type { Response } from 'express';
import type { Services } from './services/index.js';
import { databaseResource } from './services/orders.js';

/** What the dashboard shows; one JSON object per update. */
export type DashboardSnapshot = Awaited<ReturnType<LiveDashboard['snapshot']>>;

/**
 * The dashboard's data: counters from the patterns' telemetry (see
 * metrics.ts) plus what only Redis knows (queue stats, permits in use, the
 * leaderboard). One timer reads it for all open dashboards, and only while
 * at least one is open, so an idle dashboard costs nothing.
 */
export class LiveDashboard {
  private readonly clients = new Set<Response>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly services: Services,
    private readonly intervalMs = 1_000,
  ) {}

  async snapshot() {
    const { metrics, orders, scores, db } = this.services;
    const [stats, inUse, top, dead] = await Promise.all([
      orders.queue.stats(),
      orders.semaphore.holders(databaseResource),
      scores.top(10),
      orders.queue.deadLetters.list({ count: 5 }),
    ]);
    const group = stats.groups.find((g) => g.name === 'order-writers');
    const c = metrics.counters;
    return {
      at: Date.now(),
      uptimeSeconds: Math.round((Date.now() - metrics.startedAt) / 1000),
      database: db.kind,
      cache: {
        hits: c.cacheHits,
        misses: c.cacheMisses,
        staleServed: c.cacheStaleServed,
        collapsed: c.cacheCollapsed,
        refreshes: c.cacheRefreshes,
        hitRatio: metrics.hitRatio(),
      },
      rateLimit: { allowed: c.rateLimitAllowed, denied: c.rateLimitDenied, deniedBy: { ...c.deniedBy } },
      queue: {
        length: stats.length,
        pending: group?.pending ?? 0,
        lag: group?.lag ?? 0,
        oldestPendingMs: group?.oldestPendingMs ?? null,
        delayed: stats.delayed,
        dead: stats.dead,
        queued: c.ordersQueued,
        processed: c.ordersProcessed,
        retried: c.ordersRetried,
        deadLettered: c.ordersDeadLettered,
        errors: c.queueErrors,
      },
      permits: { limit: orders.semaphore.limit, inUse, waits: c.permitWaits, acquired: c.permitsAcquired },
      leaderboard: top.map(({ member, score, rank }) => ({ member, score, rank })),
      // The oldest few, as GET /admin/dead-letters lists them (that endpoint has them all, and replays them).
      deadLetters: dead.map((letter) => ({
        id: letter.id,
        productId: (letter.message as { productId?: number } | undefined)?.productId,
        attempts: letter.attempts,
        error: letter.error,
      })),
    };
  }

  /** Serves `text/event-stream`: a snapshot now, then one per interval, until the client goes away. */
  subscribe(res: Response): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimer();
    });
    void this.push([res]);
    this.timer ??= setInterval(() => void this.push([...this.clients]), this.intervalMs);
  }

  private async push(targets: Response[]): Promise<void> {
    let data: string;
    try {
      data = `data: ${JSON.stringify(await this.snapshot())}\n\n`;
    } catch (error) {
      // Redis unreachable: say so, and keep the stream open for when it is back.
      data = `event: problem\ndata: ${JSON.stringify({ error: String(error) })}\n\n`;
    }
    for (const res of targets) if (!res.writableEnded) res.write(data);
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends every open stream, so the HTTP server can close. */
  close(): void {
    this.stopTimer();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
