import type { RedisConnection } from '@redkit/core';
import { GeoIndex } from '@redkit/geo';
import type { Scenario, Target, Variant } from '../scenario.js';
import { randomIndexes } from './subjects.js';

/** Members in each index: 100,000 over a 100 km × 100 km square around Paris. */
const indexSize = 100_000;
const west = 1.8;
const south = 48.4;
const lonSpan = 1.4;
const latSpan = 0.9;
const resolution = 1_000_000;
const limit = 100;

const redkitKey = 'bench-geo:{city}:points';
const seenKey = 'bench-geo-ttl:{city}:seen';
const redkitTtlKey = 'bench-geo-ttl:{city}:points';
const rawKey = 'bench-raw:{city}:points';

const lons = randomIndexes(indexSize, resolution, 0x6e0);
const lats = randomIndexes(indexSize, resolution, 0x6e1);
/** Search centres, in the middle part of the square so every circle is full. */
const centreLons = randomIndexes(1 << 14, resolution, 0xce1);
const centreLats = randomIndexes(1 << 14, resolution, 0xce2);
const centre = (i: number) => ({
  lon: 2.2 + (0.6 * (centreLons[i % centreLons.length] as number)) / resolution,
  lat: 48.6 + (0.5 * (centreLats[i % centreLats.length] as number)) / resolution,
});

const populated = new WeakMap<RedisConnection, Promise<void>>();

/** Fills the three geo sets once per connection with the same members, in GEOADD batches of 1,000, 20 per pipeline. */
function populate(redis: RedisConnection): Promise<void> {
  let done = populated.get(redis);
  if (!done) {
    done = fill(redis);
    populated.set(redis, done);
  }
  return done;
}

async function fill(redis: RedisConnection): Promise<void> {
  await redis.del(redkitKey, rawKey);
  await redis.del(redkitTtlKey, seenKey);
  const now = Date.now();
  let pipeline = redis.pipeline();
  let queued = 0;
  for (let first = 0; first < indexSize; first += 1_000) {
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

function nearVariants(radiusKm: number) {
  return ({ redis }: Target): Variant[] => {
    const index = new GeoIndex({ redis, namespace: 'bench-geo', name: 'city' });
    const moving = new GeoIndex({ redis, namespace: 'bench-geo-ttl', name: 'city', ttl: '1d', evictBatch: 0 });
    // A 1 km circle holds about 30 members, a 10 km one thousands (so the limit applies).
    const expected = radiusKm >= 10 ? limit : 10;
    const check = (name: string, length: number) => {
      if (length < expected || length > limit)
        throw new Error(`${name}: expected ${expected}…${limit} results, got ${length}`);
    };
    return [
      {
        name: 'ioredis-geosearch',
        async setup() {
          await populate(redis);
          const { lon, lat } = centre(0);
          check(
            'ioredis-geosearch',
            (
              await redis.geosearch(
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
              )
            ).length,
          );
        },
        run: (i) => {
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
        },
      },
      {
        name: 'redkit',
        async setup() {
          await populate(redis);
          check('redkit', (await index.near(centre(0), { radius: radiusKm, unit: 'km', limit })).length);
        },
        run: (i) => index.near(centre(i), { radius: radiusKm, unit: 'km', limit }),
      },
      {
        name: 'redkit-ttl',
        async setup() {
          await populate(redis);
          check('redkit-ttl', (await moving.near(centre(0), { radius: radiusKm, unit: 'km', limit })).length);
        },
        run: (i) => moving.near(centre(i), { radius: radiusKm, unit: 'km', limit }),
      },
    ];
  };
}

const description = (radiusKm: number, members: string) =>
  `Each operation finds the ${limit} members nearest a random point within ${radiusKm} km (about ${members} members ` +
  'in the circle), with distances and coordinates, in an index of 100,000 members spread uniformly over a ' +
  '100 km × 100 km square (populated in setup with pipelined `GEOADD` batches of 1,000; all keys in one hash slot). ' +
  '`ioredis-geosearch`: one `GEOSEARCH … FROMLONLAT … BYRADIUS … ASC COUNT 100 WITHCOORD WITHDIST` (the practical ' +
  'limit). `redkit`: `GeoIndex.near(…, { limit: 100 })`, one script running the same `GEOSEARCH`, options ' +
  'validated and results typed. `redkit-ttl`: the same on an index with a `ttl` (moving objects), where the ' +
  'script also checks every result’s last-seen time.';

/** `near` with a 1 km radius: a short result, so fixed costs dominate. */
export const geoNear1km: Scenario = {
  name: 'geo-near-1km',
  title: 'geo near, radius 1 km, limit 100, 100,000 members',
  description: description(1, '30'),
  baseline: 'ioredis-geosearch',
  variants: nearVariants(1),
};

/** `near` with a 10 km radius: Redis collects and sorts thousands of members, then returns the 100 nearest. */
export const geoNear10km: Scenario = {
  name: 'geo-near-10km',
  title: 'geo near, radius 10 km, limit 100, 100,000 members',
  description: description(10, '3,100'),
  baseline: 'ioredis-geosearch',
  variants: nearVariants(10),
};
