import { connect } from '@redkit/core';
import { GeoIndex, type GeoMember, type GeoResult, type GeoSnapshot } from '@redkit/geo';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

describe('geo public types', () => {
  const redis = connect('redis://localhost');

  it('metadata is typed by the schema: its input on writes, its output on reads', () => {
    const schema = z.object({ name: z.string(), since: z.string().transform((text) => text.length) });
    const index = new GeoIndex({ redis, name: 'typed', schema });
    index.add('a', { lon: 1, lat: 2 }, { metadata: { name: 'A', since: '2025' } });
    // @ts-expect-error metadata must match the schema's input
    index.upsert('a', { lon: 1, lat: 2 }, { metadata: { name: 5 } });
    expectTypeOf(index.near({ lon: 1, lat: 2 }, { radius: 1 })).resolves.toEqualTypeOf<
      GeoResult<{ name: string; since: number }>[]
    >();
    expectTypeOf(index.get('a')).resolves.toEqualTypeOf<GeoMember<{ name: string; since: number }> | null>();
    expectTypeOf(index.snapshot({ member: 'a' }, { radius: 1 })).resolves.toEqualTypeOf<GeoSnapshot>();
  });

  it('without a schema there is no metadata; units and origins are checked', () => {
    const index = new GeoIndex({ redis, name: 'plain' });
    expectTypeOf(index.within({ polygon: [] })).resolves.toEqualTypeOf<GeoResult<never>[]>();
    // @ts-expect-error no schema, no metadata
    index.add('a', { lon: 1, lat: 2 }, { metadata: { any: 1 } });
    // @ts-expect-error unknown unit
    index.near({ lon: 1, lat: 2 }, { radius: 1, unit: 'yd' });
    // @ts-expect-error an origin is a point or a member
    index.near({ lng: 1, lat: 2 }, { radius: 1 });
    expectTypeOf(index.distance('a', 'b', 'km')).resolves.toEqualTypeOf<number | null>();
  });
});
