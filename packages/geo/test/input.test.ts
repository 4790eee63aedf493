import { GeoIndex, type GeoIndexOptions } from '@redkit/geo';
import { badCallsContract, badOptionsContract } from '@redkit/testing/contracts';
import { describeTopologies } from '@redkit/testing/vitest';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

describeTopologies('bad input', (t) => {
  const options = (): GeoIndexOptions => ({ redis: t.redis, namespace: t.namespace, name: 'places' });

  describe('constructor', () => {
    badOptionsContract([
      ['empty name', () => new GeoIndex({ ...options(), name: '' }), 'name: must not be empty'],
      ['name not a string', () => new GeoIndex({ ...options(), name: 42 as never }), 'name'],
      ['bad namespace', () => new GeoIndex({ ...options(), namespace: 'a{b}' }), 'namespace'],
      ['not a client', () => new GeoIndex({ ...options(), redis: {} as never }), 'redis: must be an ioredis'],
      ['schema not a zod schema', () => new GeoIndex({ ...options(), schema: {} as never }), 'schema: must be a zod'],
      ['ttl', () => new GeoIndex({ ...options(), ttl: 'soon' as never }), 'ttl'],
      ['ttl 0', () => new GeoIndex({ ...options(), ttl: 0 }), 'ttl'],
      ['evictBatch', () => new GeoIndex({ ...options(), evictBatch: -1 }), 'evictBatch'],
      ['unknown option', () => new GeoIndex({ ...options(), tll: 5 } as never), 'tll'],
    ]);
  });

  describe('calls', () => {
    const schema = z.object({ kind: z.string() });
    const index = new GeoIndex({ ...options(), schema, ttl: '1m' });
    const plain = new GeoIndex({ ...options(), name: 'plain' });
    const at = { lon: 2.35, lat: 48.85 };
    const square = [
      { lon: 0, lat: 0 },
      { lon: 1, lat: 0 },
      { lon: 1, lat: 1 },
    ];

    badCallsContract(
      [
        [
          'longitude above 180',
          () => index.add('a', { lon: 180.5, lat: 0 }),
          'point.lon: must be between -180 and 180',
        ],
        ['longitude below -180', () => index.upsert('a', { lon: -181, lat: 0 }), 'point.lon'],
        ['longitude NaN', () => index.upsert('a', { lon: Number.NaN, lat: 0 }), 'point.lon'],
        ['latitude beyond 85.05112878', () => index.add('a', { lon: 0, lat: 85.06 }), 'point.lat: must be between'],
        ['latitude below -85.05112878', () => index.add('a', { lon: 0, lat: -89 }), 'point.lat'],
        ['latitude a string', () => index.add('a', { lon: 0, lat: '1' as never }), 'point.lat: must be a number'],
        ['lng instead of lon', () => index.add('a', { lng: 1, lat: 1 } as never), 'point'],
        ['empty member', () => index.add('', at), 'member: must not be empty'],
        ['member not a string', () => index.add(5 as never, at), 'member'],
        ['member too long', () => index.position('x'.repeat(1025)), 'member: must be at most 1024'],
        ['metadata failing the schema', () => index.add('a', at, { metadata: { kind: 5 } as never }), 'metadata.kind'],
        [
          'metadata without a schema',
          () => plain.add('a', at, { metadata: {} as never }),
          'metadata: this index has no',
        ],
        ['unknown write option', () => index.add('a', at, { meta: {} } as never), 'meta'],
        ['radius 0', () => index.near(at, { radius: 0 }), 'radius: must be a finite number greater than 0'],
        ['negative radius', () => index.near(at, { radius: -1 }), 'radius'],
        ['infinite radius', () => index.near(at, { radius: Number.POSITIVE_INFINITY }), 'radius'],
        ['unit', () => index.near(at, { radius: 1, unit: 'yd' as never }), 'unit'],
        ['limit 0', () => index.near(at, { radius: 1, limit: 0 }), 'limit'],
        ['limit too large', () => index.near(at, { radius: 1, limit: 10_001 }), 'limit'],
        ['sort', () => index.near(at, { radius: 1, sort: 'up' as never }), 'sort'],
        ['origin latitude', () => index.near({ lon: 0, lat: 86 }, { radius: 1 }), 'from'],
        ['origin neither point nor member', () => index.near({} as never, { radius: 1 }), 'from'],
        ['metadata asked without schema', () => plain.near(at, { radius: 1, metadata: true }), 'metadata'],
        ['box width 0', () => index.within({ box: { center: at, width: 0, height: 1 } }), 'box.width'],
        ['box and polygon', () => index.within({ box: { center: at, width: 1, height: 1 }, polygon: square }), 'box'],
        ['neither box nor polygon', () => index.within({}), 'box'],
        ['polygon of 2 vertices', () => index.within({ polygon: square.slice(0, 2) }), 'polygon: must have at least 3'],
        ['polygon vertex latitude', () => index.within({ polygon: [...square, { lon: 0, lat: 90 }] }), 'polygon.3.lat'],
        [
          'polygon across the antimeridian',
          () =>
            index.within({
              polygon: [
                { lon: -179, lat: 0 },
                { lon: 179, lat: 0 },
                { lon: 179, lat: 1 },
              ],
            }),
          'polygon: must span less than 180',
        ],
        [
          'flat polygon',
          () =>
            index.within({
              polygon: [
                { lon: 0, lat: 0 },
                { lon: 1, lat: 0 },
                { lon: 2, lat: 0 },
              ],
            }),
          'polygon: must enclose',
        ],
        ['distance unit', () => index.distance('a', 'b', 'yd' as never), 'unit'],
        ['snapshot ttl too short', () => index.snapshot(at, { radius: 1, ttl: 10 }), 'ttl'],
        ['snapshot radius', () => index.snapshot(at, { radius: -5 }), 'radius'],
        ['page of a bad id', () => index.page('../../etc'), 'snapshot: must be the id'],
        ['negative page offset', () => index.page('0123456789abcdef.m', { offset: -1 }), 'offset'],
        ['evictStale without ttl', () => plain.evictStale(), 'ttl: this index has no ttl'],
      ],
      { redis: () => t.redis, namespace: t.namespace },
    );

    it('pages() validates before storing anything', async () => {
      await expect(plain.pages(at, { radius: 1, pageSize: 0 }).next()).rejects.toThrow('pageSize');
    });
  });
});
