import type { RedisConnection } from '@redkit/core';
import { GeoIndex } from '@redkit/geo';
import { z } from 'zod';
import type { ServiceConfig } from '../config.js';
import type { Database } from '../db.js';

const storeMetadata = z.object({ id: z.number().int(), name: z.string() });

/**
 * Stores, searchable by distance. SQL holds the stores; a Redis geo index
 * answers "what is near me" (GEOSEARCH) without a spatial extension in the
 * database, with each store's name stored beside it so a search is one call.
 */
export class Stores {
  readonly index;

  constructor(
    redis: RedisConnection,
    private readonly db: Database,
    config: ServiceConfig,
  ) {
    this.index = new GeoIndex({ redis, namespace: `${config.namespace}:geo`, name: 'stores', schema: storeMetadata });
  }

  /** Indexes every store of the database (idempotent: upserts). */
  async load(): Promise<void> {
    const rows = await this.db.query<{ id: number; name: string; lon: number; lat: number }>(
      'SELECT id, name, lon, lat FROM stores',
    );
    for (const row of rows) {
      await this.index.upsert(
        `store:${row.id}`,
        { lon: row.lon, lat: row.lat },
        {
          metadata: { id: row.id, name: row.name },
        },
      );
    }
  }

  async near(point: { lon: number; lat: number }, radiusKm: number, limit = 10) {
    const found = await this.index.near(point, { radius: radiusKm, unit: 'km', limit, sort: 'asc' });
    return found.map((store) => ({
      id: store.metadata?.id,
      name: store.metadata?.name,
      distanceKm: Math.round(store.distance * 1000) / 1000,
      lon: store.lon,
      lat: store.lat,
    }));
  }
}
