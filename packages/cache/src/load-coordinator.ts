import { InvalidOptionsError, RedisUnavailableError } from '@redkit/core';
import type { CacheContext, CallSettings } from './cache-context.js';
import { decodeEntry } from './entry.js';
import type { Leases } from './leases.js';
import { type Loader, type ManyLoader, runLoader, softTimeoutReached } from './loader.js';
import type { Found, Lookup, ReadPath } from './read-path.js';
import type { Tags } from './tags.js';
import type { WritePath } from './write-path.js';

/** One load of one key: what to load and how, and what is known already. */
export interface LoadRequest {
  readonly key: string;
  readonly redisKey: string;
  readonly loader: Loader<unknown>;
  readonly settings: CallSettings;
  /** A stale value (within grace) to serve on errors, lock waits and soft timeouts. */
  readonly stale: Found<unknown> | undefined;
  /** A refresh-ahead or revalidation: nobody waits for its result. */
  readonly background: boolean;
  /** Redis already failed in this call: load without it. */
  readonly skipRedis: boolean;
}

/** The load that follows a `getOrSet` lookup, built only then (a hit allocates nothing more). */
export function loadRequestOf<Value>(
  key: string,
  redisKey: string,
  loader: Loader<Value>,
  settings: CallSettings,
  lookup: Lookup<unknown>,
  background: boolean,
): LoadRequest {
  const { found, redisFailed } = lookup;
  return {
    key,
    redisKey,
    loader: loader as Loader<unknown>,
    settings,
    stale: found,
    background,
    skipRedis: redisFailed,
  };
}

/** A load in flight in this process. */
interface Flight {
  readonly promise: Promise<unknown>;
  readonly background: boolean;
}

/** How the lease step of a load ended. */
type LeaseOutcome =
  /** This caller took the lease (`token`) and loads. */
  | { readonly load: true; readonly token: string; readonly start: number }
  /** No load needed: another process's value, fresh. */
  | { readonly load: false; readonly current: Found<unknown> }
  /** Another process holds the lease. */
  | { readonly load: false; readonly current: Found<unknown> | undefined; readonly busy: true; readonly start: number };

/**
 * Every load of a cache goes through here: single flight within the process,
 * then one lease protocol for single and batch loads (see {@link Leases}):
 * take the key's lease, or serve what another process wrote, or wait for its
 * write (woken over pub/sub, polling as a backstop, for at most `lockWait`),
 * or serve the stale value. Then the loader runs under its timeouts, failed
 * loads back off (`errorBackoff`), and the value is written with the load's
 * stamp, so a write or delete made meanwhile wins.
 */
export class LoadCoordinator {
  private readonly context: CacheContext;
  private readonly reads: ReadPath;
  private readonly writes: WritePath;
  private readonly leases: Leases;
  private readonly tags: Tags;
  /** Loads in flight in this process, by entry key (single flight). */
  private readonly flights = new Map<string, Flight>();
  /** Keys whose loader failed recently: not called again before this time (performance.now()). */
  private readonly backoffUntil = new Map<string, number>();

  constructor(context: CacheContext, reads: ReadPath, writes: WritePath, leases: Leases, tags: Tags) {
    this.context = context;
    this.reads = reads;
    this.writes = writes;
    this.leases = leases;
    this.tags = tags;
  }

  /**
   * In-process single flight around {@link loadOnce}. A caller that waits for
   * the value never joins a background refresh (which may end without one,
   * e.g. when another process holds the lease).
   */
  load(request: LoadRequest): Promise<unknown> {
    const { key, redisKey, background } = request;
    const inflight = this.flights.get(redisKey);
    if (inflight && (background || !inflight.background)) {
      if (!background) this.context.events.emit('stampede-collapsed', { key, via: 'in-process' });
      return inflight.promise;
    }
    const promise = this.loadOnce(request).finally(() => {
      if (this.flights.get(redisKey) === flight) this.flights.delete(redisKey);
    });
    const flight: Flight = { promise, background };
    this.flights.set(redisKey, flight);
    return promise;
  }

  /**
   * The lease step of one key's load: the entry re-read and the lease in one
   * script. Another process's fresh value (for a refresh: newer than the one
   * being refreshed) ends the load; a lease held elsewhere is reported busy.
   */
  private async lease(
    key: string,
    redisKey: string,
    settings: CallSettings,
    stale: Found<unknown> | undefined,
  ): Promise<LeaseOutcome> {
    const attempt = await this.leases.begin(key, redisKey, settings.hardTimeout);
    // Re-read in the script: another process may have filled it since our read (which reported it once).
    const current =
      attempt.blob === null
        ? undefined
        : await this.reads.accept(key, decodeEntry(attempt.blob), attempt.blob.length, false);
    if (current && this.context.clock.now() < current.freshUntil && (!stale || current.version > stale.version)) {
      if (attempt.token) await this.leases.release(key, attempt.token);
      return { load: false, current };
    }
    if (!attempt.token) return { load: false, current, busy: true, start: attempt.start };
    return { load: true, token: attempt.token, start: attempt.start };
  }

  private async loadOnce(request: LoadRequest): Promise<unknown> {
    const { key, redisKey, loader, settings, stale, background, skipRedis } = request;
    const { events } = this.context;
    const backoff = this.backoffUntil.get(redisKey);
    if (backoff !== undefined) {
      if (performance.now() < backoff && stale) {
        events.emit('stale-served', { key, reason: 'loader-error' });
        return stale.value;
      }
      if (performance.now() >= backoff) this.backoffUntil.delete(redisKey);
    }
    // XFetch's δ is the whole recomputation: the lease round trip, the loader and the write.
    const started = performance.now();
    let redisOk = !skipRedis;
    let start = 0;
    let token = '';
    let tagVersions: Map<string, number> | undefined;
    if (redisOk) {
      try {
        // The tags' versions and the start stamp are taken before the loader reads the source.
        const [outcome, versions] = await Promise.all([
          this.lease(key, redisKey, settings, stale),
          this.tags.versions(settings.tags),
        ]);
        tagVersions = versions;
        if (outcome.load) {
          token = outcome.token;
          start = outcome.start;
        } else if (!('busy' in outcome)) {
          // Filled by another process since our read.
          events.emit('stampede-collapsed', { key, via: 'lease' });
          return outcome.current.value;
        } else {
          start = outcome.start;
          if (background) return undefined;
          const usable = stale ?? outcome.current;
          if (usable) {
            events.emit('stale-served', { key, reason: 'lock-wait' });
            return usable.value;
          }
          const awaited = await this.waitForOtherLoad(key, redisKey);
          if (awaited) {
            events.emit('stampede-collapsed', { key, via: 'lease' });
            return awaited.value;
          }
          // The other process did not finish within lockWait: load without the lease.
        }
      } catch (error) {
        if (!(error instanceof RedisUnavailableError)) throw error;
        redisOk = false;
        token = '';
      }
    }
    const store = (value: unknown) =>
      this.writes.store({
        key,
        redisKey,
        value,
        settings,
        start,
        tagVersions,
        loadMs: performance.now() - started,
        token,
      });
    let value: unknown;
    try {
      value = await runLoader((signal) => loader({ key, signal, stale: stale?.value }), {
        key,
        hardTimeout: settings.hardTimeout,
        softTimeout: stale ? settings.softTimeout : undefined,
        // The soft timeout returned the stale value; the load goes on and is stored when it finishes.
        onLate: (late) => {
          if (redisOk) store(late).catch((error: unknown) => this.writes.reportUnstored(key, error));
        },
      });
    } catch (error) {
      if (error === softTimeoutReached) {
        // The lease stays with the load still running; its write releases it.
        events.emit('stale-served', { key, reason: 'soft-timeout' });
        return (stale as Found<unknown>).value;
      }
      if (token) await this.leases.release(key, token).catch(() => {});
      events.emit('loader-error', { key, error });
      if (this.context.options.staleIfError && stale) {
        this.backoffUntil.set(redisKey, performance.now() + this.context.options.errorBackoff);
        events.emit('stale-served', { key, reason: 'loader-error' });
        return stale.value;
      }
      throw error;
    }
    const durationMs = performance.now() - started;
    this.backoffUntil.delete(redisKey);
    if (redisOk) {
      try {
        await store(value);
      } catch (error) {
        // Reported (as redis-error or unserializable); the caller still gets the loaded value.
        if (this.writes.reportUnstored(key, error)) return value;
      }
    }
    events.emit('refresh', { key, durationMs, background });
    return value;
  }

  /** getOrSetMany's loads: leases per key, one loader call for the keys this process leased. */
  async loadBatch(
    keys: readonly string[],
    loadMany: ManyLoader<unknown>,
    settings: CallSettings,
  ): Promise<Map<string, unknown>> {
    const { events } = this.context;
    const results = new Map<string, unknown>();
    const leased: { key: string; token: string; start: number }[] = [];
    /** Keys another process is loading, with this call's start stamp (kept if it ends up loading them). */
    const waiting: { key: string; start: number }[] = [];
    let redisOk = true;
    const tagVersions = await this.tags.versions(settings.tags).catch(() => {
      redisOk = false;
      return undefined;
    });
    if (redisOk) {
      await Promise.all(
        keys.map(async (key) => {
          try {
            const outcome = await this.lease(key, this.context.keys.entry(key), settings, undefined);
            if (outcome.load) leased.push({ key, token: outcome.token, start: outcome.start });
            else if (!('busy' in outcome)) results.set(key, outcome.current.value);
            else waiting.push({ key, start: outcome.start });
          } catch {
            redisOk = false;
            leased.push({ key, token: '', start: 0 });
          }
        }),
      );
    } else {
      for (const key of keys) leased.push({ key, token: '', start: 0 });
    }
    await Promise.all(
      waiting.map(async ({ key, start }) => {
        const found = await this.waitForOtherLoad(key, this.context.keys.entry(key));
        if (found) {
          events.emit('stampede-collapsed', { key, via: 'lease' });
          results.set(key, found.value);
        } else {
          // Conditional on the stamp: a write or delete since then wins over this load.
          leased.push({ key, token: '', start });
        }
      }),
    );
    if (leased.length === 0) return results;
    const started = performance.now();
    const batchKeys = leased.map((entry) => entry.key);
    let loaded: Map<string, unknown>;
    try {
      loaded = await runLoader((signal) => loadMany(batchKeys, { signal }), {
        key: batchKeys.join(','),
        hardTimeout: settings.hardTimeout,
      });
    } catch (error) {
      await Promise.all(
        leased
          .filter((entry) => entry.token)
          .map((entry) => this.leases.release(entry.key, entry.token).catch(() => {})),
      );
      events.emit('loader-error', { key: batchKeys.join(','), error });
      throw error;
    }
    if (!(loaded instanceof Map)) {
      throw new InvalidOptionsError([{ path: 'loadMany', message: 'must return a Map of key → value' }]);
    }
    const durationMs = performance.now() - started;
    const unstored = new Set<string>();
    await Promise.all(
      leased.map(async ({ key, token, start }) => {
        const value = loaded.get(key);
        results.set(key, value);
        if (!redisOk) return;
        const redisKey = this.context.keys.entry(key);
        await this.writes
          .store({ key, redisKey, value, settings, start, tagVersions, loadMs: durationMs, token })
          .catch((error: unknown) => {
            if (this.writes.reportUnstored(key, error)) unstored.add(key);
          });
      }),
    );
    for (const { key } of leased) {
      if (!unstored.has(key)) events.emit('refresh', { key, durationMs, background: false });
    }
    return results;
  }

  /**
   * Waits for another process's load of `redisKey`: woken by its write's
   * invalidation message, with polling as a backstop, for at most lockWait.
   */
  private async waitForOtherLoad(key: string, redisKey: string): Promise<Found<unknown> | undefined> {
    const { bus, options, driver, call, clock } = this.context;
    await bus.start();
    const until = performance.now() + options.lockWait;
    let pause = 25;
    while (!this.context.closed) {
      const left = until - performance.now();
      if (left <= 0) return undefined;
      await bus.waitFor(redisKey, Math.min(pause, left));
      pause = Math.min(pause * 2, 400);
      let blob: string | null;
      try {
        blob = await this.context.redis(() => driver.command<string | null>('GET', [redisKey], call));
      } catch {
        return undefined;
      }
      if (blob === null) continue;
      const found = await this.reads.accept(key, decodeEntry(blob), blob.length);
      if (found && clock.now() < found.freshUntil) return found;
    }
    return undefined;
  }
}
