// Cache-aside: read from Redis, on a miss load from the source and store it.
// Concurrent misses for one key run the loader once (stampede protection).
import { Cache } from '@redkit/cache';
import { connect } from '@redkit/core';
import { z } from 'zod';

const redis = connect(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const products = new Cache({
  redis,
  namespace: 'example-cache-aside',
  ttl: '1m',
  schema: z.object({ id: z.number(), name: z.string() }), // values read back are checked and typed
});
await products.clear(); // start empty, so the example can run twice

let loads = 0;
const slowDatabase = async (id: number) => {
  loads++;
  await new Promise((resolve) => setTimeout(resolve, 100)); // a slow query
  return { id, name: `Product ${id}` };
};
const findProduct = (id: number) => products.getOrSet(`product:${id}`, () => slowDatabase(id));

const results = await Promise.all(Array.from({ length: 20 }, () => findProduct(1)));
console.log(`20 concurrent requests, loader ran ${loads} time(s): ${results[0]?.name}`);
await findProduct(1);
console.log(`after a cache hit, loader ran ${loads} time(s)`);

await products.delete('product:1'); // e.g. after the product changed
await findProduct(1);
console.log(`after an invalidation, loader ran ${loads} time(s)`);

await products.close();
await redis.quit();
