import type { RedisConnection } from '@redkit/core';
import { GeoIndex } from '@redkit/geo';
import type { Scenario, Target, Variant } from '../scenario.js';
import { randomIndexes } from './subjects.js';

/** Index sizes measured: members spread over a 100 km × 100 km square around Paris. */
const largestIndex = 1_000_000;
const west = 1.8;
const south = 48.4;
const lonSpan = 1.4;
const latSpan = 0.9;
const resolution = 1_000_000;
const limit = 100;

/** The namespaces and keys of one index size (every key in one hash slot per size). */
const keysOf = (size: number) => ({
  redkit: `bench-geo-${size}`,
  redkitTtl: `bench-geo-ttl-${size}`,
  redkitKey: `bench-geo-${size}:{city}:points`,
  seenKey: `bench-geo-ttl-${size}:{city}:seen`,
  redkitTtlKey: `bench-geo-ttl-${size}:{city}:points`,
  rawKey: `bench-raw-${size}:{city}:points`,
});

// The first n members of the largest index are the index of size n.
const lons = randomIndexes(largestIndex, resolution, 0x6e0);
const lats = randomIndexes(largestIndex, resolution, 0x6e1);
/** Search centres, in the middle part of the square so every circle is full. */
const centreLons = randomIndexes(1 << 14, resolution, 0xce1);
const centreLats = randomIndexes(1 << 14, resolution, 0xce2);
const centre = (i: number) => ({
  lon: 2.2 + (0.6 * (centreLons[i % centreLons.length] as number)) / resolution,
  lat: 48.6 + (0.5 * (centreLats[i % centreLats.length] as number)) / resolution,
});

const populated = new WeakMap<RedisConnection, Map<number, Promise<void>>>();

/** Fills the three geo sets of a size once per connection with the same members, in GEOADD batches of 1,000, 20 per pipeline. */
function populate(redis: RedisConnection, size: number): Promise<void> {
  let sizes = populated.get(redis);
  if (!sizes) {
    sizes = new Map();
    populated.set(redis, sizes);
  }
  let done = sizes.get(size);
  if (!done) {
    done = fill(redis, size);
    sizes.set(size, done);
  }
  return done;
}

async function fill(redis: RedisConnection, size: number): Promise<void> {
  const { redkitKey, rawKey, redkitTtlKey, seenKey } = keysOf(size);
  await redis.del(redkitKey, rawKey);
  await redis.del(redkitTtlKey, seenKey);
  const now = Date.now();
  let pipeline = redis.pipeline();
  let queued = 0;
  for (let first = 0; first < size; first += 1_000) {
    const args: (string | number)[] = [];
    const seen: (string | number)[] = [];
    for (let i = first; i < first + 1_000; i++) {
      const member = `m${i}`;
      args.push(
        west + (lonSpan * (lons[i] as number)) / resolution,
        south + (latSpan * (lats[i] as number)) / resolution,
        member,
      );
      seen.push(now, member);
    }
    pipeline.geoadd(redkitKey, ...args);
    pipeline.geoadd(rawKey, ...args);
    pipeline.geoadd(redkitTtlKey, ...args);
    pipeline.zadd(seenKey, ...seen);
    if (++queued === 20) {
      await pipeline.exec();
      pipeline = redis.pipeline();
      queued = 0;
    }
  }
  await pipeline.exec();
}

function nearVariants(radiusKm: number, size: number) {
  return ({ redis }: Target): Variant[] => {
    const keys = keysOf(size);
    const rawKey = keys.rawKey;
    const index = new GeoIndex({ redis, namespace: keys.redkit, name: 'city' });
    const moving = new GeoIndex({ redis, namespace: keys.redkitTtl, name: 'city', ttl: '1d', evictBatch: 0 });
    // A 1 km circle holds about 30 members, a 10 km one thousands (so the limit applies).
    const expected = radiusKm >= 10 ? limit : 10;
    const check = (name: string, length: number) => {
      if (length < expected || length > limit)
        throw new Error(`${name}: expected ${expected}…${limit} results, got ${length}`);
    };
    const rawSearch = (i: number) => {
      const { lon, lat } = centre(i);
      return redis.geosearch(
        rawKey,
        'FROMLONLAT',
        lon,
        lat,
        'BYRADIUS',
        radiusKm,
        'km',
        'ASC',
        'COUNT',
        limit,
        'WITHCOORD',
        'WITHDIST',
      );
    };
    return [
      {
        name: 'ioredis-geosearch',
        async setup() {
          await populate(redis, size);
          check('ioredis-geosearch', (await rawSearch(0)).length);
        },
        run: rawSearch,
      },
      {
        name: 'redkit',
        async setup() {
          await populate(redis, size);
          check('redkit', (await index.near(centre(0), { radius: radiusKm, unit: 'km', limit })).length);
        },
        run: (i) => index.near(centre(i), { radius: radiusKm, unit: 'km', limit }),
      },
      {
        name: 'redkit-ttl',
        async setup() {
          await populate(redis, size);
          check('redkit-ttl', (await moving.near(centre(0), { radius: radiusKm, unit: 'km', limit })).length);
        },
        run: (i) => moving.near(centre(i), { radius: radiusKm, unit: 'km', limit }),
      },
    ];
  };
}

const description = (radiusKm: number, size: number, members: string) =>
  `Each operation finds the ${limit} members nearest a random point within ${radiusKm} km (about ${members} members ` +
  `in the circle), with distances and coordinates, in an index of ${size.toLocaleString('en-US')} members spread ` +
  'uniformly over a 100 km × 100 km square (populated in setup with pipelined `GEOADD` batches of 1,000; all keys ' +
  'in one hash slot). `ioredis-geosearch`: one `GEOSEARCH … FROMLONLAT … BYRADIUS … ASC COUNT 100 WITHCOORD ' +
  'WITHDIST` (the practical limit). `redkit`: `GeoIndex.near(…, { limit: 100 })` on an index without `ttl` or ' +
  'metadata, which sends that same `GEOSEARCH` as a plain command, with options validated and results typed. ' +
  '`redkit-ttl`: the same on an index with a `ttl` (moving objects), where a script runs the `GEOSEARCH` and ' +
  'checks every result’s last-seen time.';

function nearScenario(radiusKm: number, size: number, members: string): Scenario {
  const sizeLabel = size >= 1_000_000 ? `${size / 1_000_000}m` : `${size / 1_000}k`;
  return {
    name: `geo-near-${radiusKm}km${size === 100_000 ? '' : `-${sizeLabel}`}`,
    title: `geo near, radius ${radiusKm} km, limit ${limit}, ${size.toLocaleString('en-US')} members`,
    description: description(radiusKm, size, members),
    baseline: 'ioredis-geosearch',
    variants: nearVariants(radiusKm, size),
  };
}

/** `near` with a 1 km radius: a short result, so fixed costs dominate. */
export const geoNear1km = nearScenario(1, 100_000, '30');
/** `near` with a 10 km radius: Redis collects and sorts thousands of members, then returns the 100 nearest. */
export const geoNear10km = nearScenario(10, 100_000, '3,100');
export const geoNear1km1m = nearScenario(1, 1_000_000, '300');
/**
 * 40–70 ms of Redis CPU per query, so it runs with `--concurrency 8`. With
 * other work on the 2 cores a query took Redis 75–130 ms (slowlog), and a
 * caller behind 7 others waited up to ~2 s: the client's default command
 * timeout, which failed the cluster run.
 */
const near10km1m = nearScenario(10, 1_000_000, '31,000');
export const geoNear10km1m: Scenario = {
  ...near10km1m,
  description:
    `${near10km1m.description} A query costs Redis 40–70 ms, so this scenario runs with \`--concurrency 8\` ` +
    '(at 64 in flight a caller would queue for seconds) and a few hundred operations, and its client allows ' +
    '10 s per command.',
  commandTimeoutMs: 10_000,
};
