// Geo search: who is near a point, with typed metadata; entries not seen for
// `ttl` vanish (moving objects such as drivers).
import { connect } from '@redkit/core';
import { GeoIndex } from '@redkit/geo';
import { z } from 'zod';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const drivers = new GeoIndex({
  redis,
  name: 'example-drivers',
  schema: z.object({ car: z.string() }),
  ttl: '1m',
});
await drivers.clear(); // start empty, so the example can run twice

await drivers.upsert('ana', { lon: 2.3522, lat: 48.8566 }, { metadata: { car: 'Zoe' } }); // Hôtel de Ville
await drivers.upsert('ben', { lon: 2.2945, lat: 48.8584 }, { metadata: { car: 'Model 3' } }); // Eiffel Tower
await drivers.upsert('cho', { lon: 2.3376, lat: 48.8606 }, { metadata: { car: 'Clio' } }); // Louvre

const rider = { lon: 2.3488, lat: 48.8534 }; // Notre-Dame
const nearby = await drivers.near(rider, { radius: 2, unit: 'km', limit: 5 });
for (const driver of nearby) {
  console.log(`${driver.member} (${driver.metadata?.car}) ${driver.distance.toFixed(2)} km away`);
}
console.log(`ana to ben: ${(await drivers.distance('ana', 'ben', 'km'))?.toFixed(2)} km`);

await drivers.clear();
await redis.quit();
